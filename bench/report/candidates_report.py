"""candidates.md, the printed table and candidates.png of `python -m bench candidates`: read gain against storage
overhead per candidate migration, the Pareto front marked, and the recommendation line.

Drawn from the table bench.judge.candidates_table.build_table returns (the contents of candidates.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.report.figure_style import AFTER_COLOUR, LIMIT_COLOUR, NEUTRAL, grid, new_figure

FIGURE_FILE = "candidates.png"


def _interval(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "n/a"
    low, high = value.get("low"), value.get("high")
    bounds = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return f"{value['point']:.2f}x{bounds}"


def _promise_names(table: Mapping[str, Any]) -> list[str]:
    return sorted({p for row in table["rows"] for p in row["promises"]})


def format_candidates(table: Mapping[str, Any], header: str = "") -> str:
    """The markdown table (also printed): one row per candidate, the Pareto front and the recommendation."""
    promises = _promise_names(table)
    front = set(table["pareto_front"])
    columns = [
        "candidate",
        "applied",
        "app time / 1,000 page views (before/after)",
        *promises,
        "storage overhead",
        "writes: ingested events (before/after)",
        "migration (s)",
        "write stall (ms)",
        "idempotent",
        "backward compatible",
        "Pareto",
    ]
    lines = ["# Candidate migrations side by side", ""]
    if header:
        lines += [header, ""]
    lines += [
        "Ratios are before/after (above 1x: the candidate is faster) with their 95% intervals; the application ratio "
        "is the app suite's weighted database time per 1,000 page views (auto plan cache mode). Pareto: no other "
        "candidate is at least as good on read gain, storage overhead and write cost (the ingest ratio, where both "
        "have one) and better on one. A promise marked (not claimed) is "
        "measured for a candidate whose file says `-- promises: none`. Write stall: the longest time no write "
        "completed while the migration ran on a scratch copy under a steady writer (non-blocking: within 100 ms); "
        "idempotent: a second application passes and changes no index; backward compatible: every query returns the "
        "same rows before and after.",
        "",
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    for row in table["rows"]:
        if not row["measured"]:
            applied = "yes" if row["applied"] else "no"
            error = " ".join(str(row["error"]).split())[:300].replace("|", "\\|")
            cells = [row["name"], applied, f"failed: {error}", *("" for _ in promises), "", "", "", "", "", "", ""]
        else:
            storage = row["storage_overhead_pct"]
            migrate = row["migrate_s"]
            claims = bool(row["migration"].get("makes_promises", True))
            cells = [
                row["name"],
                "yes",
                _interval(row["app_ratio"]),
                *(_promise_cell(row["promises"].get(p), claims) for p in promises),
                "n/a" if storage is None else f"{storage:.1f}%",
                _interval(row["write_ratio"]),
                "n/a" if migrate is None else f"{migrate:.1f}",
                _stall_cell(row.get("write_stall")),
                _claim_cell(row.get("idempotent")),
                _claim_cell(row.get("backward_compatible")),
                "yes" if row["name"] in front else "",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    target = table.get("storage_target_pct")
    budget = table.get("write_budget_pct")
    lines += [
        "",
        f"Storage target: {'none' if target is None else f'{target:g}%'}; write budget: "
        f"{'none' if budget is None else f'ingest at most {budget:g}% slower'} "
        f"({table.get('targets', 'bench/targets.toml')}).",
        "",
    ]
    lines += [table["recommendation"]["text"], ""]
    notes = [f"- {row['name']}: {note}" for row in table["rows"] for note in row.get("notes", [])]
    if notes:
        lines += ["Notes:", *notes, ""]
    return "\n".join(lines)


def _claim_cell(claim: Mapping[str, Any] | None) -> str:
    return "n/a" if claim is None else str(claim.get("verdict"))


def _stall_cell(claim: Mapping[str, Any] | None) -> str:
    """The longest time no write completed while the migration ran (migration suite, on its scratch copy) and
    whether that stays within the non-blocking bound."""
    if claim is None:
        return "n/a"
    value = claim.get("value")
    figure = "" if value is None else f"{value:,.0f} "
    return f"{figure}({'non-blocking' if claim.get('verdict') == 'held' else claim.get('verdict')})"


def _promise_cell(value: Mapping[str, Any] | None, claims: bool = True) -> str:
    """A promise's ratio, interval and verdict; "(not claimed)" for a candidate whose file says `promises: none`."""
    if value is None:
        return "n/a"
    return f"{_interval(value)} {value.get('verdict') or ''}".strip() + ("" if claims else " (not claimed)")


def candidates_figure(table: Mapping[str, Any], subtitle: str = "") -> Any:
    """Read gain (application ratio, with its interval) against storage overhead (left) and against write cost
    (right: the ingest ratio, with its interval); the Pareto front's candidates as blue circles in both. None when no
    candidate has a read gain and a storage overhead."""
    rows = [r for r in table["rows"] if r["measured"] and r["app_ratio"] and r["storage_overhead_pct"] is not None]
    if not rows:
        return None
    front = set(table["pareto_front"])
    labels: list[tuple[Any, float, float, str]] = []
    fig = new_figure((13, 6))
    storage_ax, writes_ax = fig.subplots(1, 2, sharey=True)
    for row in rows:
        app = row["app_ratio"]
        colour = AFTER_COLOUR if row["name"] in front else NEUTRAL
        marker = "o" if row["name"] in front else "s"
        points = [(storage_ax, row["storage_overhead_pct"], None)]
        if row.get("write_ratio"):
            points.append((writes_ax, row["write_ratio"]["point"], row["write_ratio"]))
        for ax, x, x_interval in points:
            if app.get("low") is not None and app.get("high") is not None:
                ax.plot([x, x], [app["low"], app["high"]], color=colour, lw=1.4, alpha=0.7)
            if x_interval is not None and x_interval.get("low") is not None and x_interval.get("high") is not None:
                ax.plot([x_interval["low"], x_interval["high"]], [app["point"]] * 2, color=colour, lw=1.4, alpha=0.7)
            ax.plot([x], [app["point"]], marker=marker, ms=8, color=colour, ls="none")
            labels.append((ax, x, app["point"], row["name"]))
    # No line joins the front: a front over three objectives is not a curve in either two-dimensional panel.
    storage_ax.plot([], [], marker="o", color=AFTER_COLOUR, ls="none", label="on the Pareto front")
    storage_ax.plot([], [], marker="s", color=NEUTRAL, ls="none", label="dominated")
    for ax in (storage_ax, writes_ax):
        ax.axhline(1.0, color=NEUTRAL, lw=0.8, ls=":", label="1x: no change")
        grid(ax)
    target = table.get("storage_target_pct")
    if target is not None:
        storage_ax.axvline(target, color=LIMIT_COLOUR, lw=1.0, ls="--", label=f"storage target {target:g}%")
    budget = table.get("write_budget_pct")
    if budget is not None:
        writes_ax.axvline(
            1 / (1 + budget / 100), color=LIMIT_COLOUR, lw=1.0, ls="--", label=f"write budget: {budget:g}% slower"
        )
    writes_ax.axvline(1.0, color=NEUTRAL, lw=0.8, ls=":")
    storage_ax.set_xlabel("storage overhead of after over before (%)")
    storage_ax.set_ylabel("application database time per 1,000 page views, before/after (x)")
    writes_ax.set_xlabel("application ingest, before/after (x; below 1x the writes got slower)")
    if not any(r.get("write_ratio") for r in rows):
        writes_ax.text(
            0.5,
            0.5,
            "no write-cost measurement\n(app_writes suite not run)",
            ha="center",
            transform=writes_ax.transAxes,
            color=NEUTRAL,
        )
    _place_labels(labels)  # once every line is drawn: the axis ranges are final
    storage_ax.legend(fontsize=8, loc="best")
    writes_ax.legend(fontsize=8, loc="best")
    fig.suptitle(
        "Candidate migrations: read gain against storage and write cost (blue circles: on the Pareto front of all "
        "three)",
        fontsize=12,
        fontweight="bold",
    )
    if subtitle:
        storage_ax.set_title(subtitle, fontsize=9, color="#404040", loc="left")
    return fig


def _place_labels(labels: list[tuple[Any, float, float, str]]) -> None:
    """Names beside their points; a name whose point sits on an earlier one (two files with the same index set)
    goes one line lower instead of printing over it."""
    placed: list[tuple[Any, float, float]] = []
    for ax, x, y, name in sorted(labels, key=lambda label: -label[2]):  # top first: lower names go lower
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        near = sum(
            1
            for other, px, py in placed
            if other is ax and abs(px - x) < 0.04 * (x1 - x0) and abs(py - y) < 0.04 * (y1 - y0)
        )
        ax.annotate(name, (x, y), xytext=(6, 4 - 11 * near), textcoords="offset points", fontsize=8)
        placed.append((ax, x, y))


def write_candidates_figure(
    table: Mapping[str, Any], out_dir: Path, subtitle: str = "", name: str = FIGURE_FILE
) -> Path | None:
    fig = candidates_figure(table, subtitle)
    if fig is None:
        return None
    path = out_dir / name
    fig.savefig(path)
    return path
