"""How every figure is written, in the terminal, the reports and the gate alike: ratios, intervals, percentages,
sizes, times and rates.

One rule for measured numbers: three significant figures (0.965, 6.01, 12.3), and whole numbers with thousands
separators from 100 on (123, 1,258), so a ratio reads the same from 0.971x to 1,234x and never turns into 1e+03.
A figure that is missing (a failed measurement, a section the run lacks) is written MISSING. Values a user wrote
into a targets file or a flag are echoed as written (`:g`), not through these functions.
"""

from __future__ import annotations

MISSING = "-"
MIB = 2**20


def number(value: float | None, decimals: int | None = None) -> str:
    """Three significant figures (thousands separators from 100 on), or `decimals` fixed decimals."""
    if value is None:
        return MISSING
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def ratio(value: float | None) -> str:
    """A speedup or any before/after ratio: 1.07x."""
    return MISSING if value is None else f"{number(value)}x"


def interval(low: float | None, high: float | None) -> str:
    """The bounds of a confidence interval, without unit: [0.92, 1.35]."""
    if low is None or high is None:
        return MISSING
    return f"[{number(low)}, {number(high)}]"


def ratio_interval(point: float | None, low: float | None, high: float | None) -> str:
    """A ratio with its interval, 1.07x [0.92, 1.35]; the ratio alone when the interval is missing."""
    if point is None:
        return MISSING
    if low is None or high is None:
        return ratio(point)
    return f"{ratio(point)} {interval(low, high)}"


def percent(value: float | None, decimals: int = 1) -> str:
    """A share or a level: 18.7%."""
    return MISSING if value is None else f"{value:,.{decimals}f}%"


def percent_change(value: float | None, decimals: int = 1) -> str:
    """A change, always signed: +18.7%, -3.0%."""
    return MISSING if value is None else f"{value:+,.{decimals}f}%"


def percentage_points(value: float | None, decimals: int = 1) -> str:
    """A change between two percentages, signed: +1.2 points."""
    return MISSING if value is None else f"{value:+,.{decimals}f} points"


def mib(n_bytes: float | None, decimals: int = 1) -> str:
    """A size in binary megabytes: 38.0 MiB."""
    return MISSING if n_bytes is None else f"{n_bytes / MIB:,.{decimals}f} MiB"


def milliseconds(value: float | None, decimals: int | None = None) -> str:
    """A latency or a stall: 12.3 ms, 1,250 ms."""
    return MISSING if value is None else f"{number(value, decimals)} ms"


def seconds(value: float | None, decimals: int | None = None) -> str:
    """A duration: 1.23 s, 1,250 s."""
    return MISSING if value is None else f"{number(value, decimals)} s"


def duration(ms: float | None) -> str:
    """A time that may run long, from milliseconds: 12.3 ms below a second, 2.67 s from there."""
    if ms is None:
        return MISSING
    return seconds(ms / 1000) if ms >= 1000 else milliseconds(ms)


def rate(value: float | None, unit: str = "rows/s") -> str:
    """A throughput: 51,234 rows/s."""
    return MISSING if value is None else f"{number(value)} {unit}"
