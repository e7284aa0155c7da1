"""Which servers the harness starts, stops and signals, against real servers: start-up failures, pid files it
cannot trust, orphans of a killed harness, two harness processes at once, and a read-only `status`."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from test_instances import processes_using, run_cli

from bench.config import HarnessConfig
from bench.embedded import free_port
from bench.errors import HarnessError
from bench.instances import ROLES


@pytest.fixture(autouse=True)
def _no_harness_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads PHASE2_* variables; a developer's own settings must not steer these tests."""
    for name in list(os.environ):
        if name.startswith("PHASE2_"):
            monkeypatch.delenv(name)


def cli_options(config: HarnessConfig) -> list[str]:
    assert config.pg_bin is not None
    return ["--engine", config.engine, "--pg-bin", str(config.pg_bin), "--state-dir", str(config.state_dir)]


def data_dir(config: HarnessConfig, role: str) -> Path:
    return config.state_dir / role / "data"


# ==== start-up failures stop what they started ==================================================================
def test_equal_ports_are_refused_before_anything_starts(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    port = free_port()
    code, _, err = run_cli(["up", "--before-port", str(port), "--after-port", str(port), *cli_options(config)], capsys)
    assert code == 2, err
    assert f"--before-port and --after-port are both {port}" in err
    assert "Traceback" not in err
    for role in ROLES:
        assert not (config.state_dir / role).exists(), f"{role} was set up although the ports were refused"
    with pytest.raises(HarnessError, match="both 5555"):
        HarnessConfig(state_dir=config.state_dir, before_port=5555, after_port=5555)


def test_up_that_fails_on_after_leaves_no_server_running(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(["up", "--after-port", str(port), *cli_options(config)], capsys)
    assert code == 2, err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert (data_dir(config, "before") / "PG_VERSION").exists(), "before was never started: nothing was tested"
    for role in ROLES:
        assert not (data_dir(config, role) / "postmaster.pid").exists(), f"`up` failed but left {role} running"
        assert processes_using(data_dir(config, role)) == [], f"processes still use the {role} data directory"
