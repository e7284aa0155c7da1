"""The tables and figures of a report section (the application's workload, under load), rendered once for
report.md, report.html and the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CELL_WIDTH = 46  # the terminal cuts longer cells: the full text is in report.md


@dataclass(frozen=True)
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    return lines


def markdown_tables(tables: Sequence[Table]) -> list[str]:
    lines: list[str] = []
    for table in tables:
        lines += [f"_{table.caption}_", "", *markdown_rows(table.header, table.rows), ""]
    return lines


def markdown_figures(figures: Sequence[tuple[str, str]], names: Sequence[str]) -> list[str]:
    """The section's own figures among the report's (title, relative path)."""
    own = {f"{name}.png" for name in names}
    lines: list[str] = []
    for title, path in figures:
        if path in own:
            lines += [f"**{title}**", "", f"![{title}]({path})", ""]
    return lines


def html_tables(tables: Sequence[Table]) -> list[str]:
    parts: list[str] = []
    for table in tables:
        parts += [f"<p class='sub'>{escape(table.caption)}</p>", "<table>"]
        parts.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in table.header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in table.rows]
        parts.append("</table>")
    return parts


def text_table(table: Table, ruled: bool = True) -> list[str]:
    """Aligned columns for the terminal; long cells cut at CELL_WIDTH when ruled (the app section's style)."""
    rows = [table.header, *table.rows]
    if ruled:
        rows = [[c if len(c) <= CELL_WIDTH else c[: CELL_WIDTH - 1] + "…" for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(table.header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if ruled:
        lines.insert(1, "-" * min(160, sum(widths) + 2 * len(widths)))
    return lines
