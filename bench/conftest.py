"""`pytest bench -k jsonb`: pytest-benchmark as a front end of the query suite (times one case).

`python -m bench run` times the cases itself (bench.measure.run); under pytest the suite prepares its own run
from the environment (PHASE2_* variables), times each slot with the same bench.measure.timing through
pytest-benchmark's pedantic mode, and writes the results document when the session ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.core.cases import load_cases
from bench.measure.params import slots_for


def pytest_configure(config: pytest.Config) -> None:
    # As in `python -m bench run`: no garbage collection pauses inside a timed round.
    if hasattr(config.option, "benchmark_disable_gc"):
        config.option.benchmark_disable_gc = True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case_slot" in metafunc.fixturenames:
        slots = [(case, label) for case in load_cases() for label, _ in slots_for(case)]
        metafunc.parametrize("case_slot", slots, ids=[f"{c.name}[{label}]" for c, label in slots])


@pytest.fixture(scope="session")
def run_context(request: pytest.FixtureRequest) -> Iterator[Any]:
    from bench.core.config import HarnessConfig
    from bench.measure.run import finalize, prepared_run
    from bench.measure.timing import MeasureSettings
    from bench.report.summary import format_verdict_table

    with prepared_run(HarnessConfig.from_env(), MeasureSettings()) as ctx:
        yield ctx
        doc = finalize(ctx)
        request.config.stash[VERDICT_TABLE] = format_verdict_table(doc)


VERDICT_TABLE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Standalone runs end with the verdict table of the results document they wrote."""
    table = config.stash.get(VERDICT_TABLE, None)
    if table:
        terminalreporter.write_sep("=", "phase2-bench verdicts")
        terminalreporter.write_line(table)
