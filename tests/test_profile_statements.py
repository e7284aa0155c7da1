"""A team's own mix: `python -m bench profile` reads pg_stat_statements (when it is there), matches the statements on
agent_events to the application cases, and writes a workload file that `--workload` replays.

The round trip: a known synthetic mix of application statements, sent as Prisma sends them (named prepared
statements), is profiled, and the written weights must equal the known shares within WEIGHT_TOLERANCE (0.001 of
a share, i.e. 0.1 percentage point). pg_stat_statements counts calls exactly, so the shares come back exactly
unless a statement is lost or counted twice; the tolerance only absorbs the decimal rendering of the file.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.core.cases import APP_QUERIES_DIR, load_cases
from bench.core.engine import PARTITIONS_CHOSEN
from bench.core.observed_mix import Matcher, canonical_sql, observed_mix, workload_toml
from bench.core.workload import AccessModel, load_workload
from bench.db.database import connect
from bench.db.instances import InstancePair
from bench.db.schema import create_indexes_before, create_table
from bench.load.statements import read_observed_mix
from bench.measure.suites import SuiteContext
from bench.measure.suites.app_params import SamplerContext, draw_params
from bench.measure.suites.app_prepared import to_positional
from bench.measure.suites.app_writes import statement, write_cases
from bench.measure.suites.scratch import COPY_SQL, RowStream, insert_rows
from generators.copy_format import encode_copy_text
from generators.shape import spec_from_args

WEIGHT_TOLERANCE = 0.001
# calls per case in the synthetic mix: skewed on purpose, one far rarer than the rest, and a stream poll that sends
# the dashboard's last-hour text with other values (pg_stat_statements counts both under one query id)
SYNTHETIC_MIX = {
    "app_session_events": 30,
    "app_dashboard_activity": 12,
    "app_dashboard_last_hour": 45,
    "app_dashboard_today": 3,
    "app_stream_poll": 5,
}
SAME_TEXT = {"app_project_events": "app_dashboard_today_project", "app_stream_poll": "app_dashboard_last_hour"}
BATCHES, BATCH_ROWS = 4, 50
READ_CASES = [c.name for c in load_cases(APP_QUERIES_DIR)]


# ==== matching statements to cases, without a server ============================================================
def test_every_case_matches_itself_as_the_server_shows_it() -> None:
    matcher = Matcher.from_cases()
    for case in load_cases(APP_QUERIES_DIR):
        params = {name: 1 for name in re.findall(r"%\((\w+)\)s", case.sql)}
        positional, _ = to_positional(case.sql, params)
        # pg_stat_statements numbers the constants after the parameters: WHERE 1=1 becomes WHERE $3=$4
        as_stored = re.sub(r"\b1=1\b", "$8=$9", positional)
        # cases that differ only in parameter values (LIMIT is bound too) send one text: counted as the first
        expected = SAME_TEXT.get(case.name, case.name)
        assert matcher.match(as_stored) == (expected, 0), case.name
    assert matcher.same_text == {shared: [case] for case, shared in SAME_TEXT.items()}
    assert len(set(matcher.reads.values())) == len(READ_CASES) - len(SAME_TEXT)


def test_batched_inserts_match_the_write_template_with_their_row_count() -> None:
    matcher = Matcher.from_cases()
    cases = write_cases()
    text = statement(cases["app_ingest_batch"], 3, 14).as_string(None)
    numbered = iter(range(1, 100))
    as_stored = re.sub(r"%s", lambda _: f"${next(numbered)}", text)
    assert matcher.match(as_stored) == ("app_ingest_batch", 3)
    assert matcher.match(as_stored.replace("ON CONFLICT DO NOTHING", "")) == ("", 0)
    assert (
        canonical_sql("SELECT  \"a\" FROM public.t WHERE x = 'v' -- note\n AND y = 42")
        == "select a from t where x=?and y=?"
    )


def test_the_written_file_is_a_workload_and_keeps_no_values(tmp_path: Path) -> None:
    rows = [
        (11, 'SELECT "public"."agent_events"."id" FROM weird\u007f WHERE x = $1', 5, 0.5, 5),
        (-12, "SELECT 1 FROM agent_events", 3, 0.1, 3),
    ]
    mix = observed_mix(rows)
    assert mix.read_shares == {} and workload_toml(mix, "db", "src") is None  # nothing to weigh: no file
    session = load_cases(APP_QUERIES_DIR)[0]
    names = re.findall(r"%\((\w+)\)s", session.sql)
    mix = observed_mix([(7, to_positional(session.sql, dict.fromkeys(names, 1))[0], 10, 1.5, 10), *rows])
    path = tmp_path / "w.toml"
    path.write_text(workload_toml(mix, "db", 'since "then"') or "")
    workload = load_workload(path, READ_CASES)
    assert workload.unit("observed_mix").cases == {session.name: 1.0}
    assert [o.case for o in workload.observed] == [session.name, "", ""]
    assert workload.observed[1].text.endswith("\u007f WHERE x = $1") and workload.observed[2].queryid == -12
    assert set(workload.what_if) == set(READ_CASES) - {session.name}


# ==== the round trip on a server with pg_stat_statements ========================================================
def run_synthetic_mix(dsn: str) -> dict[str, Any]:
    """agent_events with 3,000 generated rows, then the known mix as named prepared statements; returns what
    was sent (the parameter values, to check that none reaches the file)."""
    spec = spec_from_args(3_000 + BATCHES * BATCH_ROWS, None, 5)
    stream = RowStream(spec)
    with connect(dsn, "statements") as conn:
        create_table(conn, PARTITIONS_CHOSEN, spec.window_start, spec.reference_instant)
        with conn.cursor().copy(COPY_SQL) as copy:
            copy.write(encode_copy_text(stream.take(3_000)))
        create_indexes_before(conn)
        conn.execute("VACUUM ANALYZE agent_events")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cases = {c.name: c for c in load_cases(APP_QUERIES_DIR)}
        sampler = SamplerContext(conn, spec.reference_instant, AccessModel(), seed=3)
        params = {name: draw_params(sampler, cases[name], 3) for name in SYNTHETIC_MIX}
        conn.execute("SELECT pg_stat_statements_reset()")
    sent: dict[str, Any] = {"values": set()}
    with connect(dsn, "statements", prepare_threshold=0) as conn:
        for name, calls in SYNTHETIC_MIX.items():
            for i in range(calls):
                draw = params[name][i % len(params[name])]
                sample = draw.param_sample(cases[name])
                conn.execute(cases[name].sql, sample.params).fetchall()
                sent["values"].update(str(v) for v in sample.params.values() if isinstance(v, str | datetime))
        template = write_cases()["app_ingest_batch"]
        for _ in range(BATCHES):
            rows = insert_rows(stream.take(BATCH_ROWS))
            conn.execute(statement(template, BATCH_ROWS, 14), [v for r in rows for v in r])
            sent["values"].add(rows[0][5])  # a session id
    return sent


@pytest.fixture(scope="module")
def synthetic_mix(stat_statements_dsn: str) -> dict[str, Any]:
    return run_synthetic_mix(stat_statements_dsn)


def test_profile_writes_the_observed_mix_and_it_round_trips(
    stat_statements_dsn: str, synthetic_mix: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "profile.json"
    assert main(["profile", "--dsn", stat_statements_dsn, "--out", str(out)]) == 0
    line = capsys.readouterr().out
    written = tmp_path / "profile.workload.toml"
    assert f"workload: {written}" in line and "matched application cases" in line
    workload = load_workload(written, READ_CASES)

    expected: dict[str, float] = {}
    for name, calls in SYNTHETIC_MIX.items():
        counted_as = SAME_TEXT.get(name, name)
        expected[counted_as] = expected.get(counted_as, 0) + calls / sum(SYNTHETIC_MIX.values())
    shares = workload.unit("observed_mix").cases
    assert set(shares) == set(expected)
    worst = max(abs(shares[name] - share) for name, share in expected.items())
    assert worst <= WEIGHT_TOLERANCE, f"weights off by {worst:.6f}"
    assert "app_dashboard_last_hour also counts the calls of app_stream_poll" in written.read_text()
    (ingest,) = workload.write_units
    assert ingest.batch_rows == BATCH_ROWS
    assert ingest.cases["app_ingest_batch"] == pytest.approx(1 / BATCH_ROWS, abs=WEIGHT_TOLERANCE / BATCH_ROWS)
    observed = {o.case: o for o in workload.observed if o.case}
    assert observed["app_session_events"].calls == SYNTHETIC_MIX["app_session_events"]
    assert observed["app_dashboard_last_hour"].calls == 45 + 5
    assert (
        observed["app_ingest_batch"].rows == BATCHES * BATCH_ROWS and "row tuples" in observed["app_ingest_batch"].text
    )
    assert all(o.mean_exec_time_ms >= 0 for o in workload.observed)
    # the profile's own reads of the table came after the statements were read, so nothing else is there
    assert all(o.case for o in workload.observed)
    # unobserved cases stay measurable as what-ifs; the file passes back as a workload of the app suite
    assert set(workload.what_if) == set(READ_CASES) - set(expected)
    assert "same text as app_dashboard_last_hour" in workload.what_if["app_stream_poll"]
    text = written.read_text()
    leaked = [v for v in synthetic_mix["values"] if v in text]
    assert not leaked, f"parameter values in the workload file: {leaked[:3]}"


def test_workload_option_reaches_the_suites_and_refuses_a_bad_file(
    stat_statements_dsn: str,
    synthetic_mix: dict[str, Any],
    loaded_pair: InstancePair,
    harness_config: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    written = tmp_path / "mix.workload.toml"
    assert main(["profile", "--dsn", stat_statements_dsn, "--workload-out", str(written)]) == 0
    capsys.readouterr()
    seen: list[Path | None] = []

    def probe(ctx: SuiteContext) -> dict[str, Any]:
        seen.append(ctx.workload)
        return {"name": "probe", "title": "probe", "skipped": "probe", "verdicts": [], "records": {}, "notes": []}

    monkeypatch.setattr("bench.measure.suites.registry.SUITES", {"probe": (probe, "records the workload it is given")})
    monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(tmp_path / "runs"))
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN"):
        monkeypatch.delenv(variable, raising=False)
    state = [
        "--state-dir",
        str(harness_config.state_dir),
        "--pg-bin",
        str(harness_config.pg_bin),
        "--engine",
        "postgres",
    ]
    quick = [
        "--warmup",
        "1",
        "--min-rounds",
        "2",
        "--max-rounds",
        "2",
        "--budget",
        "0.01",
        "-k",
        "session_timeline_latest",
    ]
    assert main(["run", *state, *quick, "--suites", "probe", "--workload", str(written)]) == 0
    assert seen == [written]
    capsys.readouterr()
    bad = tmp_path / "bad.toml"
    bad.write_text(written.read_text().replace("per = 1000\n", "per = 0\n", 1))
    assert main(["run", *state, *quick, "--suites", "probe", "--workload", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: units.observed_mix.per is 0") and "\n" not in err
    assert seen == [written]  # refused before anything ran


def test_without_the_extension_the_profile_says_so_in_one_line(
    loaded_pair: InstancePair, scratch_pair: InstancePair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "profile.json"
    assert main(["profile", "--dsn", loaded_pair.before.dsn, "--out", str(out)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "pg_stat_statements" in line]
    assert len(lines) == 1 and "is not installed" in lines[0]
    assert out.exists() and not (tmp_path / "profile.workload.toml").exists()
    # installed in the database but not preloaded by the server: also one line, and the profile goes on
    with scratch_pair.before.connect() as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    result = read_observed_mix(scratch_pair.before.dsn)
    assert result.mix is None and result.absent and "installed but not loaded" in result.absent
    assert "\n" not in result.absent
