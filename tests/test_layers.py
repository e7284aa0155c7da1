"""Judging and reporting read results documents only: importing every module of bench.judge and bench.report
(the gate, the figures, compare, the summary) loads no database driver and nothing that measures."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import bench.judge, bench.report
names = []
for package in (bench.judge, bench.report):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
assert "bench.judge.gate" in names and "bench.report.document" in names, names
forbidden = ("psycopg", "bench.db", "bench.load", "bench.measure")
loaded = sorted(m for m in sys.modules if m.startswith(forbidden))
print(len(names), "modules;", "loaded:", ",".join(loaded) or "nothing forbidden")
"""


def test_judge_and_report_never_load_psycopg_or_the_measuring_layers() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("loaded: nothing forbidden"), out
