"""The verdict table printed at the end of `make bench` (and reused by report.md)."""

from __future__ import annotations

from typing import Any

from bench.verdicts import judge_speedup_range


def _fmt_ratio(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.2f}")


def verdict_rows(doc: dict[str, Any]) -> list[list[str]]:
    """Promises (with a line per case under each) and controls, as rows of text."""
    cases = {c["name"]: c for c in doc["cases"]}
    promises = {p["name"]: p for p in doc.get("targets", {}).get("promises", [])}
    rows = []
    for v in doc["verdicts"]:
        if v["kind"] == "max":
            expected = f"<= {v['bound']:g}%"
            measured = "-" if v["point"] is None else f"{v['point']:.1f}%"
        elif v["kind"] == "control":
            expected = f">= {_fmt_ratio(v['bound'])}x"
            measured = (
                "-"
                if v["point"] is None
                else f"{_fmt_ratio(v['point'])}x [{_fmt_ratio(v['low'])}, {_fmt_ratio(v['high'])}]"
            )
        else:
            expected = f"{v['expected_min']:g}-{v['expected_max']:g}x"
            measured = (
                "-"
                if v["point"] is None
                else f"{_fmt_ratio(v['point'])}x [{_fmt_ratio(v['low'])}, {_fmt_ratio(v['high'])}]"
            )
        gated = "gated" if v["gated"] else "reported"
        rows.append([v["promise"], expected, measured, v["verdict"].upper(), gated, v["evidence"]])
        for name in promises.get(v["promise"], {}).get("cases", []):
            c = cases.get(name)
            if not c:
                continue
            est = c["speedup"]
            if est:
                sub = judge_speedup_range(est["low"], est["high"], v["expected_min"], v["expected_max"])
                measured = f"{_fmt_ratio(est['point'])}x [{_fmt_ratio(est['low'])}, {_fmt_ratio(est['high'])}]"
            else:
                sub, measured = "failed", "-"
            check = c["plan_check"]
            plan = (
                f"after uses {check['expected_index']}: {check['params_using_expected']}/{check['params_planned']}"
                if check.get("expected_index")
                else ""
            )
            rows.append([f"  {name}", "", measured, sub, "", plan])
    return rows


def format_verdict_table(doc: dict[str, Any]) -> str:
    header = ["promise / case", "expected", "measured (95% CI)", "verdict", "", "evidence"]
    rows = [header, *verdict_rows(doc)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    st = doc["storage"]
    ds = doc["dataset"]
    lines.insert(1, "-" * min(160, sum(widths) + 40))
    lines.append("")
    lines.append(
        f"engine: {doc['engine']['label']}; dataset {int(ds['rows']):,} rows (fingerprint {ds['fingerprint'][:12]}); "
        f"storage before {st['before']['total_bytes'] / 2**20:,.0f} MiB, "
        f"after {st['after']['total_bytes'] / 2**20:,.0f} MiB "
        f"(indexes {st['index_overhead_pct']:+.1f}%)"
    )
    lines.append(f"results: reports/runs/{doc['run_id']}/results.json; figures are {doc['measurement']['cache_state']}")
    return "\n".join(lines)
