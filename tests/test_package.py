"""The installed package: the wheel carries the schema SQL and not the pytest front end, and once installed into a
fresh virtual environment `phase2-bench` runs from a folder outside the checkout, writing only under that folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from bench.core.config import ENV_RUNS_DIR, SCHEMA_DIR, HarnessConfig, runs_dir_from_env

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests run from
STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"  # a real ci-preset results document
STORED_RUN_ID = "20261126T223218Z"
CHECKOUT_ONLY = ("bench/conftest.py", "bench/test_query_cases.py")


def test_runs_go_under_the_working_directory_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_RUNS_DIR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert runs_dir_from_env() == tmp_path / "reports" / "runs"
    assert HarnessConfig(state_dir=tmp_path / "state").runs_dir == tmp_path / "reports" / "runs"
    monkeypatch.setenv(ENV_RUNS_DIR, str(tmp_path / "from-env"))
    assert runs_dir_from_env() == tmp_path / "from-env"
    assert runs_dir_from_env(tmp_path / "from-flag") == tmp_path / "from-flag"


def test_schema_sql_is_read_as_package_data() -> None:
    """bench/_schema is the checkout's schema/ (through its symlink), so both always hold the same files."""
    assert SCHEMA_DIR.parent.name == "bench"
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.sql")) == sorted(
        p.name for p in (REPO_ROOT / "schema").glob("*.sql")
    )
    assert (SCHEMA_DIR / "migration_phase2.sql").read_text() == (
        REPO_ROOT / "schema" / "migration_phase2.sql"
    ).read_text()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout: pip builds in the source folder, and what an earlier build left in
    build/ would otherwise end up in the wheel (and this test would leave build/ in the checkout)."""
    source = tmp_path_factory.mktemp("source") / "phase2-bench"
    shutil.copytree(
        REPO_ROOT,
        source,
        symlinks=True,  # bench/_schema stays a symlink, as in a checkout
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "*_cache", "__pycache__", ".bench", "reports"
        ),
    )
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, f"pip wheel failed:\n{built.stderr[-3000:]}"
    (path,) = out.glob("phase2_bench-*.whl")
    return path


@pytest.mark.slow
def test_wheel_ships_the_schema_and_leaves_the_pytest_front_end_out(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schema = sorted(p.name for p in (REPO_ROOT / "schema").glob("*.sql"))
    assert schema and [n for n in schema if f"bench/_schema/{n}" not in names] == []
    assert "bench/queries/session_timeline.sql" in names and "bench/targets.toml" in names
    assert [n for n in CHECKOUT_ONLY if n in names] == []
    assert [n for n in names if n.startswith("tests/") or n.endswith("conftest.py")] == []


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_installed_command_runs_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, {}
        ).stdout.strip()
    )
    # The dependencies come from the project's environment: a .pth line adds its site-packages to the path but,
    # unlike a site directory, does not run the .pth files in it (so not the editable install's finder).
    (site_packages / "phase2_bench_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        tmp_path,
        dict(os.environ),
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stderr[-3000:]}"

    work = tmp_path / "elsewhere"
    run_dir = work / "reports" / "runs" / STORED_RUN_ID
    run_dir.mkdir(parents=True)
    shutil.copy(STORED, run_dir / "results.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "PYTHON", "VIRTUAL_ENV"))}
    env["MPLBACKEND"] = "Agg"

    where = _run(
        [str(python), "-c", "import bench.core.config as c; print(c.__file__); print(c.SCHEMA_DIR)"], work, env
    )
    assert where.returncode == 0, where.stderr
    module, schema_dir = (Path(line) for line in where.stdout.split())
    assert module.is_relative_to(env_dir) and schema_dir.is_relative_to(env_dir), where.stdout
    assert (schema_dir / "agent_events.sql").is_file() and not schema_dir.is_symlink()

    command = str(env_dir / "bin" / "phase2-bench")
    shown = _run([command, "--help"], work, env)
    assert shown.returncode == 0, shown.stderr
    assert "usage:" in shown.stdout and "report" in shown.stdout and "gate" in shown.stdout

    # A run id is looked up in ./reports/runs of the working directory; the report is written beside its results.
    reported = _run([command, "report", STORED_RUN_ID], work, env)
    assert reported.returncode == 0, reported.stderr
    printed = [Path(line) for line in reported.stdout.split()]
    assert {p.name for p in printed} >= {"report.md", "report.html"}
    assert all(p.parent == run_dir and p.is_file() and p.stat().st_size > 0 for p in printed), printed
    assert any(p.suffix == ".png" for p in printed)
    assert STORED_RUN_ID in (run_dir / "report.md").read_text()

    missing = _run([command, "report", "no-such-run"], work, env)
    assert missing.returncode == 2
    assert f"look in {work / 'reports' / 'runs'}" in missing.stderr
