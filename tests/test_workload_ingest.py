"""Ingest units in a workload file: the packaged "per 1M ingested events" unit, and each mistake refused with
the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.core.workload import WorkloadError, load_workload, write_case_names
from bench.measure.suites.app import app_cases

KNOWN = ["app_session_events", "app_stream_poll"]
VALID = """
schema = 1
application = "codervisor/devlog"
commit = "05063cc"
[units.page]
title = "page"
per = 1000
source = "somewhere"
cases = { app_session_events = 1 }
[units.ingest]
title = "ingested event"
per = 1000000
batch_rows = 100
source = "the batch route"
cases = { app_ingest_sessions = 0.01, app_ingest_batch = 0.01 }
[page_views]
per = 1000
mix = { page = 1.0 }
reason = "assumed"
[what_if]
app_stream_poll = "no caller"
app_ingest_one = "no production caller"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workload.toml"
    path.write_text(text)
    return path


def test_the_packaged_workload_counts_the_ingest_of_a_million_events() -> None:
    _, workload = app_cases()
    (unit,) = workload.write_units
    assert unit.name == "ingested_events" and unit.per == 1_000_000 and unit.batch_rows == 100
    # one batch request per 100 events, each the route's sessions createMany and its events createMany
    assert unit.cases == {"app_ingest_sessions": 0.01, "app_ingest_batch": 0.01}
    assert "SendSingleEvent" in workload.what_if["app_ingest_one"]
    assert all(u.batch_rows is None for u in workload.units)  # the reads' units stay what the app suite weighs
    assert workload.to_dict()["write_units"][0]["batch_rows"] == 100
    assert write_case_names() == ["app_ingest_batch", "app_ingest_one", "app_ingest_sessions"]


def test_an_ingest_unit_loads_beside_the_reads(tmp_path: Path) -> None:
    workload = load_workload(write(tmp_path, VALID), KNOWN)
    assert [u.name for u in workload.units] == ["page"] and [u.name for u in workload.write_units] == ["ingest"]


@pytest.mark.parametrize(
    ("change", "key", "fix"),
    [
        (("batch_rows = 100\n", ""), "units.ingest.batch_rows", "1 to 1000"),
        (("batch_rows = 100\n", "batch_rows = 5000\n"), "units.ingest.batch_rows", "1 to 1000"),
        (("batch_rows = 100\n", "batch_rows = 1.5\n"), "units.ingest.batch_rows", "e.g. batch_rows = 100"),
        (
            ("app_ingest_batch = 0.01 }", "app_ingest_batch = 0.01, app_stream_poll = 1 }"),
            "units.ingest.cases",
            "mixes",
        ),
        (
            ("cases = { app_session_events = 1 }", "batch_rows = 1\ncases = { app_session_events = 1 }"),
            "units.page.batch_rows",
            "only an ingest unit",
        ),
        (
            ("app_ingest_batch = 0.01 }", "app_ingest_bulk = 0.01 }"),
            "units.ingest.cases.app_ingest_bulk",
            "app_writes/",
        ),
        (("mix = { page = 1.0 }", "mix = { ingest = 1.0 }"), "page_views.mix.ingest", "use one of page"),
        (('app_ingest_one = "no production caller"', 'app_ingest_batch = "x"'), "what_if.app_ingest_batch", "either"),
    ],
)
def test_each_ingest_problem_names_the_key_and_the_fix(
    tmp_path: Path, change: tuple[str, str], key: str, fix: str
) -> None:
    assert change[0] in VALID
    path = write(tmp_path, VALID.replace(change[0], change[1], 1))
    with pytest.raises(WorkloadError) as err:
        load_workload(path, KNOWN)
    message = str(err.value)
    assert message.startswith(f"{path}: {key} ") and fix in message, message
    assert "\n" not in message


def test_a_workload_of_writes_only_is_refused(tmp_path: Path) -> None:
    text = VALID.replace("[units.page]", "[units.page_gone]").replace("cases = { app_session_events = 1 }", "")
    text = text.replace(
        'source = "somewhere"\n', 'source = "somewhere"\ncases = { app_ingest_one = 1 }\nbatch_rows = 1\n'
    )
    text = text.replace('app_ingest_one = "no production caller"\n', "")
    with pytest.raises(WorkloadError, match="units has no unit of reads"):
        load_workload(write(tmp_path, text), KNOWN)
