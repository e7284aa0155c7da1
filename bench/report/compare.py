"""Two runs side by side: speedups per case, storage per event, and compare.md.

Runs measured on different engines, versions, CPUs or server settings are refused (pyperf refuses to
compare benchmarks whose checked metadata differ), unless forced; other differences are stated. Two
dataset sizes on the same machine is the typical use, so a size difference is reported, not refused.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.core.errors import HarnessError
from bench.core.formatting import MISSING, mib, number, percent, percent_change, ratio, ratio_interval
from bench.core.results import CHECKED_KEYS
from bench.core.verdict_words import VerdictWord
from bench.report.plots import speedup_groups
from bench.report.plots_compare import compare_speedups, compare_storage

Doc = dict[str, Any]
# Informational keys: they change what a figure means less than the CHECKED_KEYS do, but a reader should know.
NOTED_ENVIRONMENT_KEYS = ("cpu_count", "memory_gib", "os", "hostname", "python", "psycopg", "commit", "dirty")


def default_compare_dir(doc_a: Doc, doc_b: Doc) -> Path:
    """reports/compare/A_vs_B of the working directory (beside the default runs folder)."""
    return Path.cwd() / "reports" / "compare" / f"{doc_a['run_id']}_vs_{doc_b['run_id']}"


def _describe(value: Any) -> str:
    return "not set" if value is None else repr(value)


def environment_differences(doc_a: Doc, doc_b: Doc) -> tuple[list[str], list[str], list[str]]:
    """Differences between run A and run B: (refused unless forced, warned about, stated).

    A different dataset size is only stated: comparing two sizes on one machine is what compare is for.
    """
    env_a, env_b = doc_a["environment"], doc_b["environment"]
    blocking = []
    for key in CHECKED_KEYS:
        a, b = env_a.get(key), env_b.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changed = [
                f"{k} {_describe(a.get(k))} vs {_describe(b.get(k))}" for k in sorted({*a, *b}) if a.get(k) != b.get(k)
            ]
            blocking.append(f"{key} differ: {'; '.join(changed)}")
        else:
            blocking.append(f"{key} differs: {_describe(a)} (A) vs {_describe(b)} (B)")
    noted, stated = [], []
    rows_a, rows_b = int(doc_a["dataset"]["rows"]), int(doc_b["dataset"]["rows"])
    if rows_a != rows_b:
        stated.append(f"dataset size differs: {rows_a:,} rows (A) vs {rows_b:,} rows (B)")
    elif doc_a["dataset"].get("fingerprint") != doc_b["dataset"].get("fingerprint"):
        noted.append("same dataset size but a different dataset (fingerprints differ: another seed or shape)")
    sha_a, sha_b = ((d["dataset"].get("migration") or {}).get("sha256") for d in (doc_a, doc_b))
    if sha_a != sha_b:
        labels = ((d["dataset"].get("migration") or {}).get("label", "phase2") for d in (doc_a, doc_b))
        stated.append("the migration under test differs: {} (A) vs {} (B)".format(*labels))
    for key in NOTED_ENVIRONMENT_KEYS:
        if env_a.get(key) != env_b.get(key):
            noted.append(f"{key} differs: {_describe(env_a.get(key))} (A) vs {_describe(env_b.get(key))} (B)")
    measure_a = {k: v for k, v in doc_a["measurement"].items() if k != "cache_state"}
    measure_b = {k: v for k, v in doc_b["measurement"].items() if k != "cache_state"}
    changed = [k for k in sorted({*measure_a, *measure_b}) if measure_a.get(k) != measure_b.get(k)]
    if changed:
        noted.append(
            "measurement settings differ: "
            + ", ".join(f"{k} {_describe(measure_a.get(k))} vs {_describe(measure_b.get(k))}" for k in changed)
        )
    if doc_a.get("targets", {}).get("promises") != doc_b.get("targets", {}).get("promises"):
        noted.append("the targets (promised ranges) differ between the runs; verdicts are against each run's own")
    cases_a, cases_b = {c["name"] for c in doc_a["cases"]}, {c["name"] for c in doc_b["cases"]}
    if cases_a != cases_b:
        only_a, only_b = sorted(cases_a - cases_b), sorted(cases_b - cases_a)
        noted.append(f"cases measured in one run only: A {only_a or '-'}, B {only_b or '-'}")
    return blocking, noted, stated


def environment_differences_or_refuse(doc_a: Doc, doc_b: Doc, force: bool = False) -> tuple[list[str], list[str]]:
    """Raise when the environments differ in what matters, unless forced; else (warnings, statements) to print.

    Unlike the gate's refuse_incomparable_baseline, two dataset sizes are fine here: comparing them is the point.
    """
    blocking, noted, stated = environment_differences(doc_a, doc_b)
    if blocking and not force:
        listed = "\n".join(f"  - {b}" for b in blocking)
        raise HarnessError(
            f"runs {doc_a['run_id']} (A) and {doc_b['run_id']} (B) were measured in different environments, "
            f"so their speedups are not comparable:\n{listed}\n"
            "Compare runs of the same engine, PostgreSQL/TimescaleDB versions, CPU and server settings, "
            "or pass --force to compare them anyway."
        )
    return [f"compared with --force although {b}" for b in blocking] + noted, stated


def compare_runs(doc_a: Doc, doc_b: Doc, out_dir: Path, force: bool = False) -> list[Path]:
    """Write compare_speedups.png, compare_storage.png and compare.md into out_dir; return their paths."""
    warnings, statements = environment_differences_or_refuse(doc_a, doc_b, force)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for statement in statements:
        print(f"note: {statement}", file=sys.stderr)
    differences = warnings + statements
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in (("compare_speedups", compare_speedups), ("compare_storage", compare_storage)):
        path = out_dir / f"{name}.png"
        draw(doc_a, doc_b).savefig(path)
        paths.append(path)
    md = out_dir / "compare.md"
    md.write_text(compare_markdown(doc_a, doc_b, differences, [p.name for p in paths]))
    return [*paths, md]


# --- compare.md -------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]


def _verdict_cell(v: dict[str, Any] | None) -> str:
    if v is None:
        return "not judged"
    if v["kind"] == "max":
        return f"{percent(v['point'])} {v['verdict'].upper()}"
    return f"{ratio_interval(v['point'], v['low'], v['high'])} {v['verdict'].upper()}"


def compare_markdown(doc_a: Doc, doc_b: Doc, differences: Sequence[str], figures: Sequence[str]) -> str:
    docs = (doc_a, doc_b)
    runs = [
        ["run", *(d["run_id"] for d in docs)],
        [
            "dataset",
            *(f"{int(d['dataset']['rows']):,} rows, fingerprint {d['dataset']['fingerprint'][:12]}" for d in docs),
        ],
        ["engine", *(d["engine"]["label"] for d in docs)],
        ["PostgreSQL", *(str(d["environment"].get("postgres_version")) for d in docs)],
        ["CPU", *(f"{d['environment'].get('cpu_model')} × {d['environment'].get('cpu_count')}" for d in docs)],
        [
            "commit",
            *(
                f"{(d['environment'].get('commit') or '?')[:12]}{' (dirty)' if d['environment'].get('dirty') else ''}"
                for d in docs
            ),
        ],
        ["started", *(str(d.get("started_at")) for d in docs)],
    ]
    verdicts = [{v["promise"]: v for v in d["verdicts"]} for d in docs]
    names = list(dict.fromkeys([*verdicts[0], *verdicts[1]]))
    verdict_rows = []
    for name in names:
        a, b = verdicts[0].get(name), verdicts[1].get(name)
        ref = a or b
        assert ref is not None
        if ref["kind"] == "max":
            expected = f"<= {ref['bound']:g}%"
        elif ref["kind"] == "control":
            expected = f">= {ratio(ref['bound'])}"
        else:
            expected = f"{ref['expected_min']:g}-{ref['expected_max']:g}x"
        verdict_rows.append([name, expected, _verdict_cell(a), _verdict_cell(b)])
    case_rows = []
    rows_by_doc = [{r.label: r for g in speedup_groups(d) for r in g.rows if not r.pooled} for d in docs]
    for name in dict.fromkeys([*rows_by_doc[0], *rows_by_doc[1]]):
        ra, rb = rows_by_doc[0].get(name), rows_by_doc[1].get(name)
        b_over_a = number(rb.point / ra.point) if ra and rb and ra.point and rb.point else MISSING
        case_rows.append(
            [
                name,
                ratio_interval(ra.point, ra.low, ra.high) if ra else VerdictWord.NOT_MEASURED,
                ratio_interval(rb.point, rb.low, rb.high) if rb else VerdictWord.NOT_MEASURED,
                b_over_a,
            ]
        )
    storage_rows = []
    for label, key in (("before", "before"), ("after", "after")):
        storage_rows.append(
            [
                f"total {label}",
                *(
                    f"{mib(d['storage'][key]['total_bytes'])} "
                    f"({number(d['storage'][key]['total_bytes'] / int(d['dataset']['rows']), 0)} B/event)"
                    for d in docs
                ),
            ]
        )
    storage_rows.append(["storage overhead", *(percent_change(d["storage"]["storage_overhead_pct"]) for d in docs)])
    storage_rows.append(["index overhead", *(percent_change(d["storage"]["index_overhead_pct"]) for d in docs)])
    lines = [
        f"# Comparison: run A ({doc_a['run_id']}) vs run B ({doc_b['run_id']})",
        "",
        *_table(["", "A", "B"], runs),
        "",
    ]
    if differences:
        lines += ["## Differences between the runs", "", *[f"- {d}" for d in differences], ""]
    lines += [
        "## Verdicts",
        "",
        *_table(["promise / control", "expected", "A", "B"], verdict_rows),
        "",
        "## Speedup per case (95% CI)",
        "",
        *_table(["case", "A", "B", "B / A"], case_rows),
        "",
        "## Storage",
        "",
        *_table(["", "A", "B"], storage_rows),
        "",
    ]
    if figures:
        lines += ["## Figures", "", *[f"![{f}]({f})\n" for f in figures]]
    return "\n".join(lines) + "\n"
