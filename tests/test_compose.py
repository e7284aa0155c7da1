"""docker-compose.yml: valid Compose, a pinned image, and the same server settings as the embedded engine."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.db.server_settings import settings_dict

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests run from

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ROLES = ("before", "after")
HOST_PORTS = {"before": 55432, "after": 55433}
DATA_DIR = "/var/lib/postgresql/data"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def command_settings(service: dict[str, Any]) -> dict[str, str]:
    """`postgres -c name=value ...` as {name: value}; anything else in the command fails the test."""
    command = service["command"]
    assert isinstance(command, list), "command must be a list, so no shell reinterprets the values"
    assert command[0] == "postgres"
    settings: dict[str, str] = {}
    rest = command[1:]
    assert len(rest) % 2 == 0, f"unpaired argument in {rest}"
    for flag, assignment in zip(rest[::2], rest[1::2], strict=True):
        assert flag == "-c", f"unexpected argument {flag!r}"
        name, sep, value = str(assignment).partition("=")
        assert sep, f"-c {assignment!r} has no value"
        assert name not in settings, f"{name} is set twice"
        settings[name] = value
    return settings


def test_both_services_and_only_them(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == set(ROLES)


def test_image_is_pinned_to_an_exact_timescaledb_release(compose: dict[str, Any]) -> None:
    images = {compose["services"][role]["image"] for role in ROLES}
    assert len(images) == 1, f"before and after run different images: {images}"
    image = images.pop()
    assert re.fullmatch(r"timescale/timescaledb:\d+\.\d+\.\d+-pg15", image), (
        f"{image} is not an exact release tag for PostgreSQL 15 (no latest, no floating minor)"
    )


def test_server_settings_equal_the_embedded_ones(compose: dict[str, Any]) -> None:
    expected = {**settings_dict(timescaledb=True), "listen_addresses": "*"}
    for role in ROLES:
        assert command_settings(compose["services"][role]) == expected, f"{role} differs from server_settings.py"


def test_healthchecks_ask_the_server_itself(compose: dict[str, Any]) -> None:
    for role in ROLES:
        check = compose["services"][role]["healthcheck"]
        assert check["test"][0] == "CMD"
        assert "pg_isready" in check["test"]
        # Over TCP: the image's first-run temporary server listens on the socket only.
        assert check["test"][check["test"].index("-h") + 1] == "127.0.0.1"
        assert check["interval"] and check["retries"] > 0


def test_ports_are_bound_to_loopback_only(compose: dict[str, Any]) -> None:
    for role in ROLES:
        ports = compose["services"][role]["ports"]
        assert ports == [f"127.0.0.1:{HOST_PORTS[role]}:5432"], f"{role} publishes {ports}"


def test_each_service_keeps_its_data_in_its_own_named_volume(compose: dict[str, Any]) -> None:
    declared = compose["volumes"]
    used = []
    for role in ROLES:
        [mount] = compose["services"][role]["volumes"]
        name, target = mount.split(":", 1)
        assert target == DATA_DIR
        assert name in declared, f"{role} mounts {name!r}, which is not a named volume"
        used.append(name)
    assert len(set(used)) == 2, "before and after share a data volume"


def test_password_comes_from_the_environment_with_a_local_default(compose: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    defaults = set()
    for role in ROLES:
        password = compose["services"][role]["environment"]["POSTGRES_PASSWORD"]
        match = re.fullmatch(r"\$\{PHASE2_COMPOSE_PASSWORD:-([^}]+)\}", password)
        assert match, f"{role}: POSTGRES_PASSWORD={password!r} is not ${{PHASE2_COMPOSE_PASSWORD:-default}}"
        defaults.add(match[1])
    [default] = defaults
    # The header tells how to target the services: its DSNs must work with the file as it is.
    for role, port in HOST_PORTS.items():
        dsn = f"PHASE2_{role.upper()}_DSN=postgresql://postgres:{default}@127.0.0.1:{port}/postgres"
        assert f"#   {dsn}" in text, f"the header comment does not give {dsn}"


def _compose_spec_schema() -> Path | None:
    """The Compose specification's JSON schema, as docker-compose 1.x ships it (Debian: apt install docker-compose)."""
    spec = importlib.util.find_spec("compose")
    places = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    places.append(Path("/usr/lib/python3/dist-packages/compose"))
    for place in places:
        schema = place / "config" / "compose_spec.json"
        if schema.exists():
            return schema
    return None


@pytest.mark.docker
def test_valid_against_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema comes with the dev dependencies (nbformat)")
    schema_path = _compose_spec_schema()
    if schema_path is None:
        pytest.skip(
            "the Compose specification schema (compose/config/compose_spec.json) is not installed: "
            "apt-get install docker-compose provides it"
        )
    schema = json.loads(schema_path.read_text())
    # docker-compose validates with draft 4 (its schema uses draft-4 `id`), and so do we.
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft4Validator(schema).iter_errors(compose)
    ]
    assert errors == []


@pytest.mark.docker
@pytest.mark.parametrize("tool", [["docker-compose"], ["docker", "compose"]], ids=["docker-compose", "docker compose"])
def test_compose_tool_accepts_the_file(tool: list[str]) -> None:
    if shutil.which(tool[0]) is None:
        pytest.skip(f"`{' '.join(tool)}` is not installed")
    if len(tool) > 1:
        plugin = subprocess.run([*tool, "version"], capture_output=True, text=True)
        if plugin.returncode != 0:
            reason = (plugin.stderr.strip() or plugin.stdout.strip()).splitlines()[:1]
            pytest.skip(f"`{' '.join(tool)}` is not available: {' '.join(reason)}")
    result = subprocess.run(
        [*tool, "-f", str(COMPOSE_FILE), "config", "-q"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
