"""Profiling a real agent_events table and generating its shape: the profiler reads aggregates only, in a
read-only transaction, as a SELECT-only role if need be; a profile of the ci preset maps back onto its knobs;
regenerating from the profile reproduces its statistics within the stated tolerances; bad inputs say what
to fix."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.cli import main
from bench.core.config import SCHEMA_DIR
from bench.core.errors import HarnessError
from bench.db.instances import InstancePair
from bench.load.loader import load_dataset
from bench.load.profile import ProfileOptions, profile_database, read_only_transaction
from generators import faker_pools
from generators.categories import AGENTS, EVENT_TYPES, TAG_WEIGHTS, TAGS
from generators.copy_format import generate_copy_chunks
from generators.event_mix import MIDDLE_EVENT_WEIGHTS
from generators.events import EventBatch, generate_batches
from generators.profile import (
    FIDELITY_CHECKS,
    ProfileError,
    compare_profiles,
    fit_file_popularity,
    fit_spec,
    fit_zipf_exponent,
    read_profile,
    spec_from_profile,
    total_variation,
)
from generators.shape import GENERATOR_VERSION, DatasetSpec, SpecError, spec_from_args

# What the round trip must reproduce (the list); every line of the report is judged, these must exist.
KEY_STATISTICS = (
    "rows",
    "time span (days)",
    "projects",
    "top project share of rows",
    "events per session p50",
    "events per session p90",
    "event type mix (TVD)",
    "severity mix (TVD)",
    "filePath distinct per project p50",
    "filePath distinct in all projects",
    "filePath top-10 share per project",
    "data stored bytes p50",
    "data stored bytes p90",
    "data stored bytes p99",
)


@pytest.fixture(scope="module")
def source_profile(loaded_pair: InstancePair) -> dict[str, Any]:
    return profile_database(loaded_pair.before.dsn)


def execute(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


# ---- the generator's new knobs --------------------------------------------------------------------------------


def test_default_specs_keep_their_fingerprints_and_bytes() -> None:
    # Pinned for GENERATOR_VERSION 3 and the Faker release they were recorded with (another release changes
    # the people and repository names, and so the bytes and the fingerprint).
    assert GENERATOR_VERSION == "3"
    if faker_pools.FAKER_VERSION != "40.63.0":
        pytest.skip(f"values pinned with Faker 40.63.0, installed {faker_pools.FAKER_VERSION}")
    assert spec_from_args(None, "ci", None).fingerprint().startswith("3c41c18da65b4ceb")
    spec = DatasetSpec(rows=20_000, seed=5, resumed_session_fraction=0.2, large_payload_fraction=0.01)
    digest = hashlib.sha256(b"".join(chunk for _, chunk in generate_copy_chunks(spec))).hexdigest()
    assert digest.startswith("81cb47a7250ddece")


def test_mix_knobs_round_trip_through_json_and_enter_the_fingerprint() -> None:
    spec = DatasetSpec(rows=5_000, agent_weights=(("cursor", 2.0), ("aider", 1.0)))
    recorded = json.loads(json.dumps(spec.to_dict()))
    assert recorded["agent_weights"] == [["cursor", 2.0], ["aider", 1.0]]
    assert recorded["event_type_weights"] is None
    rebuilt = DatasetSpec(**{**recorded, "reference_instant": spec.reference_instant})
    assert rebuilt.agent_weights == spec.agent_weights and rebuilt.fingerprint() == spec.fingerprint()
    assert spec.fingerprint() != replace(spec, agent_weights=None).fingerprint()


def test_mix_knobs_set_the_generated_mix() -> None:
    spec = DatasetSpec(
        rows=20_000,
        seed=3,
        event_type_weights=(("file_read", 3.0), ("command_execute", 1.0)),
        agent_weights=(("aider", 1.0),),
        severity_weights=(("debug", 1.0), ("info", 1.0)),
        tag_weights=(("docs", 1.0),),
    )
    batch = EventBatch.concat(list(generate_batches(spec)))
    middle = batch.event_type[~np.isin(batch.event_type, ("session_start", "session_end"))]
    assert set(middle.tolist()) == {"file_read", "command_execute"}
    assert 0.72 < float(np.mean(middle == "file_read")) < 0.78
    assert set(batch.agent_id.tolist()) == {"aider"}
    # Failed commands are still raised to warnings or errors by the generator.
    assert set(batch.severity.tolist()) == {"debug", "info", "warning", "error"}
    assert {tag for tags in batch.tags.tolist() for tag in tags} == {"docs"}


@pytest.mark.parametrize(
    ("knobs", "complaint"),
    [
        ({"event_type_weights": (("session_start", 1.0),)}, "places one of each per session"),
        ({"agent_weights": (("windsurf", 1.0),)}, "known names: github-copilot"),
        ({"severity_weights": (("info", -1.0),)}, "finite number >= 0"),
        ({"tag_weights": (("docs", 0.0),)}, "add up to 0"),
        ({"tag_weights": "docs=1"}, "(name, weight) pairs"),
    ],
)
def test_mix_knobs_reject_bad_weights(knobs: dict[str, Any], complaint: str) -> None:
    with pytest.raises(SpecError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        DatasetSpec(rows=1_000, **knobs).validate()


# ---- fits and profile files (no database) ---------------------------------------------------------------------


def test_zipf_fit_recovers_the_exponent_of_exact_counts() -> None:
    for s in (0.6, 1.1, 2.0):
        counts = 1e6 * np.arange(1, 201, dtype=np.float64) ** -s
        fitted = fit_zipf_exponent(counts.tolist())
        assert fitted is not None and abs(fitted - s) < 0.01
    assert fit_zipf_exponent([10]) is None


def test_file_popularity_fit_recovers_files_and_exponent_from_draws() -> None:
    rng = np.random.default_rng(1)
    files, s = 300, 1.3
    q = np.arange(1, files + 1, dtype=np.float64) ** -s
    q /= q.sum()
    per_project = [rng.multinomial(n, q) for n in (150, 400, 900, 2_000, 5_000, 12_000)]
    events = [int(c.sum()) for c in per_project]
    distinct = [int((c > 0).sum()) for c in per_project]
    top10 = [int(np.sort(c)[::-1][:10].sum()) for c in per_project]
    fit = fit_file_popularity(events, distinct, top10)
    assert fit is not None
    assert 0.8 * files <= fit[0] <= 1.25 * files and abs(fit[1] - s) < 0.1


def test_bad_profile_files_say_what_to_do(
    tmp_path: Path, source_profile: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ProfileError, match="python -m bench profile"):
        read_profile(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ProfileError, match="not a JSON profile"):
        read_profile(tmp_path / "bad.json")
    with pytest.raises(ProfileError, match="schema_version 99"):
        read_profile({**source_profile, "schema_version": 99})
    broken = copy.deepcopy(source_profile)
    del broken["sessions"]
    with pytest.raises(ProfileError, match="no sessions"):
        spec_from_profile(broken)
    # `load --profile` checks the profile before it touches a server.
    assert main(["load", "--profile", str(tmp_path / "missing.json")]) == 2
    assert main(["load", "--profile", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert "no profile at" in err and "not a JSON profile" in err


# ---- the profile of the ci preset -----------------------------------------------------------------------------


def _normalised(pairs: Any) -> dict[str, float]:
    weights = dict(pairs)
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def test_profile_of_the_ci_preset_maps_back_onto_its_knobs(
    source_profile: dict[str, Any], ci_spec: DatasetSpec
) -> None:
    assert source_profile["rows"] == {"count": ci_spec.rows, "exact": True}
    assert source_profile["sampling"]["method"] == "whole table"
    fit = fit_spec(source_profile)
    spec = fit.spec
    assert fit.notes == ()
    assert (spec.rows, spec.window_days, spec.project_count) == (ci_spec.rows, 30, ci_spec.project_count)
    assert spec.reference_instant == ci_spec.reference_instant
    assert spec.sessions == ci_spec.sessions
    assert abs(spec.project_zipf_s - 1.1) < 0.15
    assert abs(spec.session_length_sigma - 1.5) < 0.15
    assert abs(spec.file_zipf_s - 1.2) < 0.1 and 300 <= spec.files_per_project <= 500
    assert abs(spec.mean_event_gap_s - 15.0) < 1.5
    assert abs(spec.resumed_session_fraction - 0.05) < 0.01
    assert abs(spec.weekend_activity - 0.35) < 0.15  # seed 42's ci sessions start on weekends a little more
    assert abs(spec.large_payload_fraction - 0.002) < 0.001
    assert abs(spec.null_metrics_fraction - 0.1) < 0.01
    assert abs(spec.related_events_fraction - 0.02) < 0.005
    built_in = {EVENT_TYPES[code]: w for code, w in MIDDLE_EVENT_WEIGHTS.items()}
    assert total_variation(_normalised(spec.event_type_weights), _normalised(built_in.items())) < 0.02
    assert (
        total_variation(
            _normalised(spec.severity_weights), {"debug": 0.1, "info": 0.86, "warning": 0.03, "error": 0.01}
        )
        < 0.01
    )
    assert total_variation(_normalised(spec.agent_weights), {a.name: a.share for a in AGENTS}) < 0.08
    assert total_variation(_normalised(spec.tag_weights), _normalised(zip(TAGS, TAG_WEIGHTS, strict=True))) < 0.03


def test_profile_holds_no_payload_values(loaded_pair: InstancePair, source_profile: dict[str, Any]) -> None:
    text = json.dumps(source_profile)
    with loaded_pair.before.connect() as conn:
        secrets = conn.execute(
            "SELECT DISTINCT value FROM ("
            " SELECT data ->> 'filePath' AS value FROM agent_events WHERE data ? 'filePath'"
            " UNION ALL SELECT data ->> 'command' FROM agent_events WHERE data ? 'command'"
            " UNION ALL SELECT data ->> 'errorMessage' FROM agent_events WHERE data ? 'errorMessage'"
            " UNION ALL SELECT session_id::text FROM agent_events"
            " UNION ALL SELECT context ->> 'workingDirectory' FROM agent_events) v"
        ).fetchall()
    assert len(secrets) > 1_000
    leaked = [value for (value,) in secrets if json.dumps(value)[1:-1] in text]
    assert leaked == []


def test_names_not_allowed_are_written_as_ranks(loaded_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    profile = profile_database(loaded_pair.before.dsn, ProfileOptions(allow_values=("severity",)))
    text = json.dumps(profile)
    hidden = [*EVENT_TYPES, *(a.name for a in AGENTS), *TAGS, "lineCount", "toolName"]
    assert [name for name in hidden if f'"{name}"' in text] == []
    assert profile["event_types"]["named"] is False and "event_type #1" in profile["event_types"]["shares"]
    assert profile["severity"]["named"] is True and "info" in profile["severity"]["shares"]
    fit = fit_spec(profile)
    assert fit.spec.event_type_weights is None and fit.spec.agent_weights is None
    assert fit.spec.severity_weights is not None
    assert any("--allow-values" in note for note in fit.notes)
    # Unnamed mixes are compared by rank.
    lines = {line.statistic: line for line in compare_profiles(profile, profile_database(loaded_pair.before.dsn))}
    assert lines["event type mix (TVD)"].passed is True


# ---- the round trip ---------------------------------------------------------------------------------------------


def test_round_trip_reproduces_the_ci_shape(
    source_profile: dict[str, Any],
    scratch_pair: InstancePair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """generate (ci) -> profile -> generate from the profile with another seed -> profile: every statistic
    within its tolerance (generators/profile.py, FIDELITY_CHECKS)."""
    path = tmp_path / "ci-profile.json"
    path.write_text(json.dumps(source_profile))
    targets = ["--before-dsn", scratch_pair.before.dsn, "--after-dsn", scratch_pair.after.dsn, "--engine", "postgres"]
    assert main(["load", *targets, "--profile", str(path), "--seed", "7", "--no-progress"]) == 0
    out = capsys.readouterr().out
    judged = len(FIDELITY_CHECKS) + 1  # and the row count
    assert "fidelity" in out and f"{judged} of {judged} statistics within tolerance" in out

    generated = profile_database(scratch_pair.before.dsn)
    lines = {line.statistic: line for line in compare_profiles(source_profile, generated)}
    failed = {
        name: (line.source, line.generated, line.tolerance) for name, line in lines.items() if line.passed is False
    }
    assert failed == {}
    assert all(lines[name].passed is True for name in KEY_STATISTICS)
    assert generated["rows"]["count"] == source_profile["rows"]["count"]
    # Generating again from the generated data's profile lands on (nearly) the same knobs.
    first, second = spec_from_profile(source_profile), spec_from_profile(generated)
    assert (second.rows, second.project_count, second.window_days) == (
        first.rows,
        first.project_count,
        first.window_days,
    )
    assert abs(second.session_length_sigma - first.session_length_sigma) < 0.2
    assert abs(second.file_zipf_s - first.file_zipf_s) < 0.1


def test_profile_scales_to_other_row_counts(source_profile: dict[str, Any]) -> None:
    spec = spec_from_profile(source_profile, rows=500_000, seed=1)
    base = spec_from_profile(source_profile)
    assert spec.rows == 500_000 and spec.project_count == 10 * base.project_count
    assert spec.files_per_project == base.files_per_project and spec.window_days == base.window_days
    assert spec.mean_events_per_session == base.mean_events_per_session


def test_profile_cli_writes_and_compares(
    loaded_pair: InstancePair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "profile.json"
    assert main(["profile", "--dsn", loaded_pair.before.dsn, "--out", str(path)]) == 0
    assert "transaction_read_only=on" in capsys.readouterr().out
    assert read_profile(path)["schema_version"] == 1
    assert main(["profile", "--compare", str(path), str(path)]) == 0
    assert "FAIL" not in capsys.readouterr().out
    skewed = json.loads(path.read_text())
    skewed["event_types"]["shares"] = {"file_read": 0.9, "session_start": 0.05, "session_end": 0.05}
    (tmp_path / "skewed.json").write_text(json.dumps(skewed))
    assert main(["profile", "--compare", str(path), str(tmp_path / "skewed.json")]) == 1
    assert "event type mix (TVD)" in (out := capsys.readouterr().out) and "FAIL" in out
    assert main(["profile", "--dsn", loaded_pair.before.dsn, "--allow-values", "event_type,data.filePath"]) == 2
    assert "never are" in capsys.readouterr().err


# ---- read-only, privileges, bad inputs --------------------------------------------------------------------------


@pytest.fixture
def reader_role(scratch_pair: InstancePair) -> Iterator[tuple[str, str]]:
    """(role, dsn): a login role whose only privilege is CONNECT on the scratch `before` database."""
    role = f"profile_reader_{uuid.uuid4().hex[:8]}"
    dbname = conninfo_to_dict(scratch_pair.before.dsn)["dbname"]
    with scratch_pair.before.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(str(dbname))))
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(str(dbname)), sql.Identifier(role))
        )
    try:
        yield role, make_conninfo(scratch_pair.before.dsn, user=role)
    finally:
        with scratch_pair.before.connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))  # its grants in this database
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_profiler_runs_read_only_as_a_select_only_role(
    scratch_pair: InstancePair, reader_role: tuple[str, str]
) -> None:
    role, dsn = reader_role
    load_dataset(scratch_pair, spec_from_args(3_000, None, 1), progress=False)
    execute(scratch_pair.before.dsn, f'GRANT SELECT ON agent_events TO "{role}"')
    profile = profile_database(dsn)
    assert profile["rows"]["count"] == 3_000
    assert profile["source"]["transaction_read_only"] == "on"
    # The profiler's transaction refuses writes even for the table's owner.
    for who in (dsn, scratch_pair.before.dsn):
        with read_only_transaction(who, 10_000) as conn:
            assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("DELETE FROM agent_events")
    with scratch_pair.before.connect() as conn:
        assert conn.execute("SELECT count(*) FROM agent_events").fetchone() == (3_000,)


def test_a_role_without_select_is_told_what_to_grant(scratch_pair: InstancePair, reader_role: tuple[str, str]) -> None:
    role, dsn = reader_role
    execute(scratch_pair.before.dsn, (SCHEMA_DIR / "agent_events.sql").read_text())
    with pytest.raises(HarnessError, match=f"role '{role}' may not read agent_events.*GRANT SELECT ON agent_events"):
        profile_database(dsn)


def test_a_missing_table_is_named_with_where_it_was_looked_for(scratch_pair: InstancePair) -> None:
    with pytest.raises(HarnessError, match=r"no table 'agent_events' .*search_path.*--table"):
        profile_database(scratch_pair.before.dsn)
    with pytest.raises(HarnessError, match=r"no table 'telemetry\.agent_events'"):
        profile_database(scratch_pair.before.dsn, ProfileOptions(table="telemetry.agent_events"))


def test_a_table_without_the_expected_columns_lists_them(scratch_pair: InstancePair) -> None:
    execute(scratch_pair.before.dsn, 'CREATE TABLE agent_events (id uuid, "timestamp" timestamptz, data json)')
    with pytest.raises(HarnessError, match=r"missing column\(s\) event_type, agent_id.*data is json \(needs jsonb\)"):
        profile_database(scratch_pair.before.dsn)


def test_an_empty_table_says_there_is_nothing_to_profile(scratch_pair: InstancePair) -> None:
    execute(scratch_pair.before.dsn, (SCHEMA_DIR / "agent_events.sql").read_text())
    with pytest.raises(HarnessError, match="agent_events is empty"):
        profile_database(scratch_pair.before.dsn)


def test_a_large_table_is_sampled(loaded_pair: InstancePair, source_profile: dict[str, Any]) -> None:
    options = ProfileOptions(sample_above_rows=10_000, sample_rows=10_000)
    profile = profile_database(loaded_pair.before.dsn, options)
    sampling = profile["sampling"]
    assert sampling["method"] == "TABLESAMPLE SYSTEM" and sampling["percent"] == 20.0
    assert sampling["sampled_rows"] < 15_000 and sampling["sessions_profiled"] < source_profile["sessions"]["count"]
    assert profile["rows"] == {"count": 50_000, "exact": False}  # from pg_class, after VACUUM ANALYZE
    # Sessions are weighted by the inverse of their chance to be seen, so their shape survives the sample.
    full, sampled = source_profile["sessions"], profile["sessions"]
    assert abs(sampled["count"] / full["count"] - 1) < 0.35
    assert abs(sampled["events"]["p50"] / full["events"]["p50"] - 1) < 0.5
    assert total_variation(profile["event_types"]["shares"], source_profile["event_types"]["shares"]) < 0.05


def test_a_large_table_never_analyzed_asks_for_statistics(scratch_pair: InstancePair) -> None:
    execute(
        scratch_pair.before.dsn,
        (SCHEMA_DIR / "agent_events.sql").read_text(),
        # autovacuum is off on the embedded servers: the table keeps the statistics of its empty state.
        'INSERT INTO agent_events (id, "timestamp", event_type, agent_id, agent_version, session_id, project_id, '
        "data, severity) SELECT gen_random_uuid(), '2025-10-01'::timestamptz + i * interval '1 minute', 'file_read',"
        " 'cursor', '1.0', gen_random_uuid(), i % 3, '{}', 'info' FROM generate_series(1, 3000) AS i",
    )
    with pytest.raises(HarnessError, match=r"no planner statistics.*run ANALYZE"):
        profile_database(scratch_pair.before.dsn, ProfileOptions(sample_above_rows=1_000))
    # Read whole, the odd table still profiles, and maps to a spec with notes on what it lacks.
    profile = profile_database(scratch_pair.before.dsn)
    assert profile["rows"]["count"] == 3_000 and profile["file_paths"] is None
    fit = fit_spec(profile)
    assert fit.spec.rows == 3_000 and fit.spec.project_count == 3
    assert any("session_start" in note for note in fit.notes) and any("file-path" in note for note in fit.notes)


def test_a_slow_statement_is_stopped_by_the_timeout(loaded_pair: InstancePair) -> None:
    with pytest.raises(HarnessError, match=r"statement timeout.*--statement-timeout-ms"):
        profile_database(loaded_pair.before.dsn, ProfileOptions(statement_timeout_ms=1))
