"""Fixtures live in small plugin modules under tests/fixtures/; list each one here."""

pytest_plugins = ["fixtures.instances", "fixtures.loaded", "fixtures.stat_statements"]
