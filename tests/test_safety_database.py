"""Safety of the databases the harness is pointed at, against a password-protected server this module starts:
only what the harness created or marked is touched, both targets are checked before either is marked, a role
that merely owns its database can run a benchmark, and switching engines on loaded data ends cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bench.cli import main
from bench.core import results
from bench.core.config import SCHEMA_DIR
from bench.core.sql_files import read_statements
from bench.db.database import TARGET_SCHEMA, connect
from bench.db.embedded import ServiceAccount, free_port
from bench.db.environment import server_facts
from bench.db.pg_binaries import PgBinaries
from bench.db.server_settings import settings_dict

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests run from

SUPERUSER = "admin"
SUPERUSER_PASSWORD = "admin-secret-not-for-logs"
OWNER = "app_owner"
OWNER_PASSWORD = "owner-secret-not-for-logs"
USER_ROWS = 100
MARKER = "phase2_bench_meta"


@dataclass(frozen=True)
class ExternalServer:
    """A server the harness did not start, reached over TCP with scram-sha-256 passwords."""

    port: int

    def dsn(self, dbname: str, user: str = OWNER, password: str = OWNER_PASSWORD, **extra: Any) -> str:
        return make_conninfo(host="127.0.0.1", port=self.port, user=user, password=password, dbname=dbname, **extra)

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(dbname, SUPERUSER, SUPERUSER_PASSWORD), autocommit=True)

    def owner(self, dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(dbname), autocommit=True)

    def new_database(self) -> str:
        name = f"user_db_{uuid.uuid4().hex[:10]}"
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER)))
        return name


@pytest.fixture(scope="module")
def external_server(state_dir_factory: Callable[[str], Path], pg_binaries: PgBinaries) -> Iterator[ExternalServer]:
    account = ServiceAccount.for_current_user()
    root = state_dir_factory("external") / "server"
    account.make_dir(root)
    data_dir, log_file, password_file = root / "data", root / "server.log", root / "superuser.pw"
    password_file.write_text(SUPERUSER_PASSWORD + "\n")
    if account.is_other_user:
        os.chown(password_file, account.uid, account.gid)
    init = account.run(
        [
            pg_binaries.path("initdb"),
            "-D",
            str(data_dir),
            f"--username={SUPERUSER}",
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off"
    start = account.run(
        [pg_binaries.path("pg_ctl"), "start", "-D", str(data_dir), "-l", str(log_file), "-w", "-o", options],
        start_new_session=True,
    )
    assert start.returncode == 0, start.stderr + log_file.read_text(errors="replace")
    server = ExternalServer(port)
    try:
        with server.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                    sql.Identifier(OWNER), sql.Literal(OWNER_PASSWORD)
                )
            )
        yield server
    finally:
        account.run([pg_binaries.path("pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w"])


# ---- helpers ---------------------------------------------------------------------------------------------------
def bench_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench ...` as a user runs it, without the developer's PHASE2_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASE2_") and k != "PGOPTIONS"}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def load_args(before_dsn: str, after_dsn: str, *extra: str) -> list[str]:
    return ["load", "--preset", "ci", "--engine", "postgres", "--no-progress", "--before-dsn", before_dsn,
            "--after-dsn", after_dsn, *extra]  # fmt: skip


def assert_refused(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit 2 with one line on stderr that names what was found; no traceback, no password."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    assert len(lines) == 1, f"expected one error line:\n{result.stderr}"
    message = lines[0]
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert OWNER_PASSWORD not in result.stderr + result.stdout
    assert SUPERUSER_PASSWORD not in result.stderr + result.stdout
    return message


def digest(server: ExternalServer, dbname: str, relation: str) -> str:
    """The relation's rows, byte for byte, as one md5 (read as the superuser)."""
    with server.admin(dbname) as conn:
        query = sql.SQL("SELECT md5(string_agg(t::text, ',' ORDER BY t.id)), count(*) FROM {} AS t").format(
            sql.SQL(relation)
        )
        row = conn.execute(query).fetchone()
    assert row is not None and row[1] == USER_ROWS, f"{relation} holds {row[1] if row else None} rows"
    return str(row[0])


def is_marked(server: ExternalServer, dbname: str) -> bool:
    with server.admin(dbname) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{TARGET_SCHEMA}.{MARKER}"]).fetchone()
    return bool(row and row[0])


def relkind(server: ExternalServer, dbname: str, relation: str) -> str | None:
    with server.admin(dbname) as conn:
        row = conn.execute("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(%s)", [relation]).fetchone()
    return row[0] if row else None


def mark_as_the_harness_would(server: ExternalServer, dbname: str) -> None:
    with server.owner(dbname) as conn:
        for statement in read_statements(SCHEMA_DIR / "harness_marker.sql"):
            conn.execute(statement)


USER_TABLE_SQL = (
    "CREATE TABLE {name} (id integer PRIMARY KEY, note text NOT NULL);"
    "INSERT INTO {name} SELECT g, 'the user''s own row ' || g FROM generate_series(1, 100) AS g"
)


@dataclass(frozen=True)
class UserObject:
    """Something of the user's named agent_events, how the DSN reaches it, and the rows that must survive."""

    setup: Callable[[ExternalServer, str], None]
    shown: str  # how the refusal names it
    rows_in: str  # the relation holding the user's rows
    options: str | None = None  # libpq options of the user's DSN


def _as_owner(*statements: str) -> Callable[[ExternalServer, str], None]:
    def setup(server: ExternalServer, dbname: str) -> None:
        with server.owner(dbname) as conn:
            for statement in statements:
                conn.execute(statement)

    return setup


def _foreign_table(server: ExternalServer, dbname: str) -> None:
    source = server.new_database()
    _as_owner(USER_TABLE_SQL.format(name="public.events"))(server, source)
    with server.admin(dbname) as conn:  # CREATE EXTENSION postgres_fdw needs a superuser
        conn.execute("CREATE EXTENSION postgres_fdw")
        conn.execute(
            sql.SQL(
                "CREATE SERVER source FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port {}, dbname {})"
            ).format(sql.Literal(str(server.port)), sql.Literal(source))
        )
        conn.execute(
            sql.SQL("CREATE USER MAPPING FOR PUBLIC SERVER source OPTIONS (user {}, password {})").format(
                sql.Literal(OWNER), sql.Literal(OWNER_PASSWORD)
            )
        )
        conn.execute(
            "CREATE FOREIGN TABLE public.agent_events (id integer, note text) "
            "SERVER source OPTIONS (schema_name 'public', table_name 'events')"
        )
        conn.execute(sql.SQL("ALTER FOREIGN TABLE public.agent_events OWNER TO {}").format(sql.Identifier(OWNER)))


USER_OBJECTS = {
    "table in schema app, reached through search_path": UserObject(
        _as_owner("CREATE SCHEMA app", USER_TABLE_SQL.format(name="app.agent_events")),
        "app.agent_events (table)",
        "app.agent_events",
        options="-csearch_path=app,public",
    ),
    "view": UserObject(
        _as_owner(USER_TABLE_SQL.format(name="public.events"), "CREATE VIEW agent_events AS SELECT * FROM events"),
        "public.agent_events (view)",
        "public.events",
    ),
    "materialized view": UserObject(
        _as_owner(
            USER_TABLE_SQL.format(name="public.events"),
            "CREATE MATERIALIZED VIEW agent_events AS SELECT * FROM events",
        ),
        "public.agent_events (materialized view)",
        "public.agent_events",
    ),
    "foreign table": UserObject(_foreign_table, "public.agent_events (foreign table)", "public.agent_events"),
    "partitioned table": UserObject(
        _as_owner(
            "CREATE TABLE agent_events (id integer PRIMARY KEY, note text NOT NULL) PARTITION BY RANGE (id)",
            "CREATE TABLE agent_events_all PARTITION OF agent_events FOR VALUES FROM (1) TO (1000)",
            "INSERT INTO agent_events SELECT g, 'the user''s own row ' || g FROM generate_series(1, 100) AS g",
        ),
        "public.agent_events (partitioned table)",
        "public.agent_events",
    ),
}


# ==== only what the harness created or marked is touched ========================================================
@pytest.mark.parametrize("role", ["before", "after"])
@pytest.mark.parametrize("kind", list(USER_OBJECTS))
def test_a_users_agent_events_is_refused_and_untouched(external_server: ExternalServer, kind: str, role: str) -> None:
    server, found = external_server, USER_OBJECTS[kind]
    dbs = {"before": server.new_database(), "after": server.new_database()}
    found.setup(server, dbs[role])
    rows = digest(server, dbs[role], found.rows_in)
    extra = {"options": found.options} if found.options else {}
    dsns = {r: server.dsn(db, **(extra if r == role else {})) for r, db in dbs.items()}

    result = bench_cli(*load_args(dsns["before"], dsns["after"]))

    assert_refused(result, f"the {role} database", found.shown, "no phase2-bench marker")
    assert digest(server, dbs[role], found.rows_in) == rows, "the user's rows changed"
    assert relkind(server, dbs[role], found.rows_in) is not None
    assert not is_marked(server, dbs["before"]) and not is_marked(server, dbs["after"]), "a database was marked"


def test_a_superuser_dsn_is_held_to_the_same_check(external_server: ExternalServer) -> None:
    """The check does not depend on privileges: a superuser's DSN reaching app.agent_events is refused too."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    USER_OBJECTS["table in schema app, reached through search_path"].setup(server, before)
    rows = digest(server, before, "app.agent_events")
    admin = {"user": SUPERUSER, "password": SUPERUSER_PASSWORD}
    before_dsn = server.dsn(before, options="-csearch_path=app,public", **admin)

    assert_refused(bench_cli(*load_args(before_dsn, server.dsn(after, **admin))), "app.agent_events (table)")

    assert digest(server, before, "app.agent_events") == rows
    assert not is_marked(server, before) and not is_marked(server, after)


def test_a_database_holding_anything_of_its_own_is_not_adopted(external_server: ExternalServer) -> None:
    """No agent_events in it, but a user's table: the harness adopts only an empty database, so it writes
    nothing beside anyone's data (no marker, no table), and says which relations it found."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    _as_owner(USER_TABLE_SQL.format(name="public.customers"))(server, before)
    rows = digest(server, before, "public.customers")

    assert_refused(
        bench_cli(*load_args(server.dsn(before), server.dsn(after))),
        "the before database",
        "holds relations of its own (public.customers)",
        "createdb agent_bench_before",
    )

    assert digest(server, before, "public.customers") == rows
    assert not is_marked(server, before) and not is_marked(server, after)
    assert relkind(server, before, "public.agent_events") is None


def test_neither_database_is_marked_when_only_after_is_unsafe(external_server: ExternalServer) -> None:
    """Both targets are checked before either is marked: a refusal of `after` leaves `before` as it was."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    _as_owner(USER_TABLE_SQL.format(name="public.agent_events"))(server, after)
    rows = digest(server, after, "public.agent_events")

    assert_refused(bench_cli("up", "--before-dsn", server.dsn(before), "--after-dsn", server.dsn(after)), "after")

    assert not is_marked(server, before), "before was marked although after was refused"
    assert not is_marked(server, after)
    assert digest(server, after, "public.agent_events") == rows


def test_marked_database_whose_search_path_reaches_another_agent_events(external_server: ExternalServer) -> None:
    """Marked, but the DSN's search_path resolves agent_events to the user's table in `app`: refused, untouched."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    for db in (before, after):
        mark_as_the_harness_would(server, db)
    USER_OBJECTS["table in schema app, reached through search_path"].setup(server, before)
    rows = digest(server, before, "app.agent_events")
    user_dsn = server.dsn(before, options="-csearch_path=app,public")

    result = bench_cli(*load_args(user_dsn, server.dsn(after)))

    assert_refused(result, "the before database", "app.agent_events (table)", "search_path")
    assert digest(server, before, "app.agent_events") == rows
    assert relkind(server, before, "public.agent_events") is None, "the harness created its table anyway"


def test_a_view_named_agent_events_in_a_marked_database_is_refused(external_server: ExternalServer) -> None:
    """Marked, but agent_events is a view the harness never creates: a clean refusal, nothing dropped."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    for db in (before, after):
        mark_as_the_harness_would(server, db)
    USER_OBJECTS["view"].setup(server, before)
    rows = digest(server, before, "public.events")

    assert_refused(bench_cli(*load_args(server.dsn(before), server.dsn(after))), "public.agent_events (view)")

    assert relkind(server, before, "public.agent_events") == "v"
    assert digest(server, before, "public.events") == rows


def test_work_connections_pin_the_search_path_and_keep_other_options(external_server: ExternalServer) -> None:
    server = external_server
    db = server.new_database()
    dsn = server.dsn(db, options="-csearch_path=app,public -c statement_timeout=4321")
    with connect(dsn, "before") as conn:
        assert conn.execute("SHOW search_path").fetchone() == (TARGET_SCHEMA,)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("4321ms",)
    with connect(dsn, "before", user_search_path=True) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("app,public",)


def test_harness_sql_names_its_objects_in_the_target_schema() -> None:
    """Every harness statement that creates, changes or drops agent_events or the marker names the schema.
    (migration_phase2.sql is the design document's text, left as written: the pinned search_path covers it.)"""
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        if path.name == "migration_phase2.sql":
            continue
        for statement in read_statements(path):
            for table in ("agent_events", MARKER):
                unqualified = statement.replace(f'"{TARGET_SCHEMA}"."{table}"', "")
                assert f'"{table}"' not in unqualified and f"'{table}'" not in unqualified, (
                    f"{path.name}: {statement!r} names {table} without the schema {TARGET_SCHEMA}"
                )


# ==== external servers need no superuser ========================================================================
def test_settings_the_role_cannot_read_are_recorded_as_unknown(external_server: ExternalServer) -> None:
    server = external_server
    db = server.new_database()
    with server.owner(db) as conn:
        readable = conn.execute("SELECT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')").fetchone()
        assert readable == (False,), "the test needs a role without pg_read_all_settings"
        facts = server_facts(conn, timescaledb=True)
        work_mem = conn.execute("SELECT current_setting('work_mem')").fetchone()
    assert set(facts["settings"]) == set(settings_dict(True))
    assert facts["settings"]["shared_preload_libraries"] == "unknown"
    assert work_mem is not None and facts["settings"]["work_mem"] == work_mem[0]
    assert facts["postgres_version"]


def _cli_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def runs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run folders of these tests go to a temporary directory, not reports/runs."""
    runs = tmp_path / "runs"
    for name in list(os.environ):
        if name.startswith("PHASE2_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(runs))
    return runs


QUICK_RUN = ["-k", "session_timeline", "--warmup", "1", "--min-rounds", "2", "--max-rounds", "2", "--budget", "0.01",
             "--suites", ""]  # fmt: skip


@pytest.mark.slow
def test_a_database_owner_loads_and_runs_the_ci_preset(
    external_server: ExternalServer, runs_in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = external_server
    dsns = ["--before-dsn", server.dsn(server.new_database()), "--after-dsn", server.dsn(server.new_database())]

    code, out, err = _cli_in_process(load_args(dsns[1], dsns[3]), capsys)
    assert code == 0, err
    assert "CHECKPOINT" in out, "the load does not say which step needed more than a database owner"
    code, out, err = _cli_in_process(["run", "--engine", "postgres", *dsns, *QUICK_RUN], capsys)
    assert code == 0, err
    code, out, err = _cli_in_process(["status", "--engine", "postgres", *dsns], capsys)
    assert code == 0, err
    assert out.count("  healthy") == 2

    doc = results.load_results(next(runs_in_tmp.glob("*/results.json")))
    assert {c["name"] for c in doc["cases"]} >= {"session_timeline"}
    assert doc["environment"]["engine"] == "postgres"
    assert doc["environment"]["settings"]["work_mem"] not in (None, "unknown")


# ==== switching engines on loaded data ==========================================================================
@pytest.mark.slow
def test_switching_engines_on_loaded_data_ends_cleanly(external_server: ExternalServer) -> None:
    """A load on one engine, then another engine: `run` says what to do, `load` reloads on the new engine."""
    server = external_server
    before, after = server.new_database(), server.new_database()
    dsns = [server.dsn(before), server.dsn(after)]
    assert bench_cli(*load_args(*dsns)).returncode == 0
    # What a TimescaleDB load leaves behind, as far as this server can hold it: the dataset recorded with engine
    # timescaledb, and agent_events a plain table (a hypertable's parent is one) rather than a partitioned table.
    for db in (before, after):
        with server.owner(db) as conn:
            conn.execute(
                f"UPDATE {TARGET_SCHEMA}.{MARKER} SET value = jsonb_set(value, '{{engine}}', '\"timescaledb\"') "
                "WHERE key = 'dataset'"
            )
            conn.execute("CREATE TABLE public.agent_events_plain (LIKE public.agent_events INCLUDING ALL)")
            conn.execute("INSERT INTO public.agent_events_plain SELECT * FROM public.agent_events")
            conn.execute("DROP TABLE public.agent_events")
            conn.execute("ALTER TABLE public.agent_events_plain RENAME TO agent_events")

    run = bench_cli("run", "--engine", "postgres", "--before-dsn", dsns[0], "--after-dsn", dsns[1], *QUICK_RUN)
    assert_refused(run, "timescaledb", "--engine postgres")

    reload = bench_cli(*load_args(*dsns))
    assert reload.returncode == 0, reload.stderr
    for db in (before, after):
        assert relkind(server, db, "public.agent_events") == "p", "not reloaded as daily partitions"


@pytest.mark.timescaledb
@pytest.mark.slow
def test_embedded_servers_switch_from_a_hypertable_to_partitions_and_back(
    timescaledb_bin: Path, state_dir_factory: Callable[[str], Path], tmp_path: Path
) -> None:
    """A database that once held a hypertable keeps the extension: the servers preload TimescaleDB whenever it is
    installed, so a partitions load still runs there (and drops the extension), and the way back works too."""
    state = state_dir_factory("engine-switch")
    common = ["--pg-bin", str(timescaledb_bin), "--state-dir", str(state)]
    try:
        for engine, kind in (("timescaledb", "hypertable"), ("postgres", "partitioned"), ("timescaledb", "hypertable")):
            load = bench_cli("load", "--preset", "ci", "--engine", engine, "--no-progress", *common)
            assert load.returncode == 0, load.stderr
            status = bench_cli("up", *common)
            assert status.returncode == 0, status.stderr
            listed = bench_cli("status", "--json", *common)
            assert listed.returncode == 0, listed.stderr
            for entry in json.loads(listed.stdout):
                assert entry["table"]["kind"] == kind, entry
                if engine == "postgres":
                    assert entry["timescaledb_version"] is None, "the partitions engine left the extension behind"
            refused = bench_cli("run", "--engine", "postgres" if engine == "timescaledb" else "timescaledb", *common,
                                "--runs-dir", str(tmp_path), *QUICK_RUN)  # fmt: skip
            assert refused.returncode == 2, refused.stderr
            assert f"--engine {engine}" in refused.stderr or "load" in refused.stderr, refused.stderr
            assert bench_cli("down", *common).returncode == 0
    finally:
        bench_cli("down", *common)
