"""The phase2-bench harness; its layers and their import direction are in pyproject.toml [tool.importlinter]."""
