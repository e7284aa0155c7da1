"""How often the gate cries wolf and what it misses: outcomes of calibration gate runs, rates with Wilson
intervals, a control slowdown curve by synthetic injection, and the Markdown table. Pure: reads results
documents and gate checks, never a server (bench/measure/calibrate.py runs the gates).

- false-alarm rate: the share of A/A gate runs (a migration that changes nothing) in which any gated check
  failed, over all checks of the run; the goal is <= 5%.
- detection rate: per planted regression, the share of its gate runs that failed; the goal is >= 95%.
- slowdown curve: the after-latencies of every control of each A/A results document are scaled by 5%, 10%,
  ... 50% and the control re-judged as the gate would; the smallest slowdown detected in >= 95% of the
  (run, control) trials is what the control tolerance can actually catch on this machine.
Wilson score intervals (Wilson 1927), because with K = 10 runs a rate of 0/10 is not "0%": its 95% interval
reaches 28%.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.judge.gate import GateCheck, as_document, control_check
from bench.judge.pooled import pairs_by_round, pooled_speedup_interval
from bench.judge.verdicts import Targets, control_verdict

WILSON_Z = 1.959964  # two-sided 95%
FALSE_ALARM_GOAL = 0.05
DETECTION_GOAL = 0.95
SLOWDOWNS_PCT = tuple(range(5, 55, 5))
AA_LABEL = "A/A (no-op migration)"


@dataclass(frozen=True)
class GateOutcome:
    """One calibration gate run: which migration, whether the gate failed, and the gated checks that failed."""

    migration: str
    run_id: str
    failed: bool
    failed_checks: tuple[str, ...]  # "kind:name", e.g. "control:control_last_24h"
    n_checks: int
    n_gated: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed_checks": list(self.failed_checks)}


def gate_outcome(migration: str, run_id: str, checks: Sequence[GateCheck]) -> GateOutcome:
    failed = tuple(f"{c.kind}:{c.name}" for c in checks if c.status == "fail")
    gated = sum(1 for c in checks if c.status != "reported")
    return GateOutcome(migration, run_id, bool(failed), failed, len(checks), gated)


@dataclass(frozen=True)
class Rate:
    """`hits` of `n` trials, with its Wilson 95% interval (all None when there were no trials)."""

    hits: int
    n: int
    rate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        if self.rate is None or self.low is None or self.high is None:
            return "no runs"
        return f"{self.hits}/{self.n} = {self.rate:.0%} [{self.low:.0%}, {self.high:.0%}]"


def wilson_interval(hits: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion hits/n."""
    if n < 1 or not 0 <= hits <= n:
        raise ValueError(f"a proportion needs 0 <= hits <= n and n >= 1, got {hits}/{n}")
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(hits: int, n: int) -> Rate:
    if n == 0:
        return Rate(0, 0, None, None, None)
    low, high = wilson_interval(hits, n)
    return Rate(hits, n, hits / n, low, high)


def failure_rate(outcomes: Iterable[GateOutcome]) -> Rate:
    """The share of gate runs that failed: the false-alarm rate of A/A runs, the detection rate of a planted one."""
    outcomes = list(outcomes)
    return rate(sum(1 for o in outcomes if o.failed), len(outcomes))


def detection_rate(outcomes: Iterable[GateOutcome], expected: Sequence[str] = ()) -> Rate:
    """The share of a planted regression's gate runs that failed on a check it is meant to trip (a failed
    check named by one of the `expected` prefixes, e.g. "plan:" or "control:control_last_24h"); any failed
    check counts when nothing is expected. A run that failed only on another check was caught by noise."""
    outcomes = list(outcomes)
    if not expected:
        return failure_rate(outcomes)
    hits = sum(1 for o in outcomes if any(c.startswith(tuple(expected)) for c in o.failed_checks))
    return rate(hits, len(outcomes))


def failing_checks(outcomes: Iterable[GateOutcome]) -> list[tuple[str, int]]:
    """Which checks failed, most often first: the right check named for a planted regression, the noisy one
    for A/A runs."""
    return Counter(check for o in outcomes for check in o.failed_checks).most_common()


@dataclass(frozen=True)
class SlowdownPoint:
    slowdown_pct: int
    detection: Rate


@dataclass(frozen=True)
class SlowdownCurve:
    points: tuple[SlowdownPoint, ...]
    smallest_detected_pct: int | None  # None: no injected slowdown reached the goal
    goal: float = DETECTION_GOAL
    controls: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slowdown_curve(
    aa_documents: Sequence[dict[str, Any]], targets: Targets, slowdowns_pct: Sequence[int] = SLOWDOWNS_PCT
) -> SlowdownCurve:
    """Inject each slowdown into every control of every A/A document and re-judge it as the gate does."""
    trials: dict[int, list[bool]] = {pct: [] for pct in slowdowns_pct}
    controls: set[str] = set()
    for raw in aa_documents:
        doc = as_document(raw).to_json()
        seed = int(doc["measurement"].get("seed") or 0)
        for case in doc["cases"]:
            if case["kind"] != "control" or case["failures"] or not case["samples"]:
                continue  # a failed control already fails the gate; there is nothing to slow down
            controls.add(case["name"])
            for pct in slowdowns_pct:
                trials[pct].append(_detected(case, 1 + pct / 100, targets, seed))
    points = tuple(SlowdownPoint(pct, rate(sum(hits), len(hits))) for pct, hits in trials.items())
    smallest = next(
        (p.slowdown_pct for p in points if p.detection.rate is not None and p.detection.rate >= DETECTION_GOAL),
        None,
    )
    return SlowdownCurve(points, smallest, DETECTION_GOAL, tuple(sorted(controls)))


def slowed_samples(samples: Sequence[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """The samples with every after latency multiplied by `factor` (1.2: after is 20% slower)."""
    slowed = copy.deepcopy(list(samples))
    for sample in slowed:
        after = sample["latencies_ms"]["after"]
        sample["latencies_ms"]["after"] = [None if x is None else x * factor for x in after]
    return slowed


def _detected(case: dict[str, Any], factor: float, targets: Targets, seed: int) -> bool:
    estimate = pooled_speedup_interval(pairs_by_round(slowed_samples(case["samples"], factor)), seed=seed).estimate
    check = control_check(control_verdict(case["name"], estimate, targets))
    return check.status == "fail"


@dataclass(frozen=True)
class Calibration:
    """Everything a calibration run found; `machine` and `date` say where and when."""

    runs_per_migration: int
    aa: tuple[GateOutcome, ...]
    planted: dict[str, tuple[GateOutcome, ...]]
    curve: SlowdownCurve | None
    machine: str
    date: str
    control_tolerance_pct: float
    aa_migration: str = "noop"  # what the A/A runs applied; "phase2" on a checkout without the no-op migration
    expected: dict[str, tuple[str, ...]] = field(default_factory=dict)  # planted name -> checks it should trip

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs_per_migration": self.runs_per_migration,
            "machine": self.machine,
            "date": self.date,
            "control_tolerance_pct": self.control_tolerance_pct,
            "aa_migration": self.aa_migration,
            "false_alarms": {
                "rate": failure_rate(self.aa).to_dict(),
                "goal": FALSE_ALARM_GOAL,
                "checks": failing_checks(self.aa),
                "runs": [o.to_dict() for o in self.aa],
            },
            "planted": {
                name: {
                    "detection": detection_rate(runs, self.expected.get(name, ())).to_dict(),
                    "any_check_failed": failure_rate(runs).to_dict(),
                    "expected_checks": list(self.expected.get(name, ())),
                    "goal": DETECTION_GOAL,
                    "checks": failing_checks(runs),
                    "runs": [o.to_dict() for o in runs],
                }
                for name, runs in self.planted.items()
            },
            "slowdown_curve": self.curve.to_dict() if self.curve else None,
        }


def calibration_table(calibration: Calibration) -> str:
    """The Markdown table of the README's Calibration section."""
    aa = failure_rate(calibration.aa)
    lines = [
        f"Calibration of `make gate` ({calibration.runs_per_migration} gate runs per migration, ci preset), "
        f"{calibration.date}, {calibration.machine}; rates with Wilson 95% intervals.",
        "",
        "| gate runs | measured | rate [95% CI] | goal | met | checks that failed |",
        "|---|---|---|---|---|---|",
        _row(
            AA_LABEL,
            "false alarms",
            aa,
            f"<= {FALSE_ALARM_GOAL:.0%}",
            _met(aa, FALSE_ALARM_GOAL, below=True),
            failing_checks(calibration.aa),
        ),
    ]
    for name, runs in calibration.planted.items():
        expected = calibration.expected.get(name, ())
        detection = detection_rate(runs, expected)
        goal = f">= {DETECTION_GOAL:.0%}"
        measured = "detection by " + ", ".join(f"`{e}*`" for e in expected) if expected else "detection"
        lines.append(
            _row(f"`{name}`", measured, detection, goal, _met(detection, DETECTION_GOAL), failing_checks(runs))
        )
    curve = calibration.curve
    if curve is not None:
        smallest = "none up to 50%" if curve.smallest_detected_pct is None else f"{curve.smallest_detected_pct}%"
        lines += [
            "",
            f"Smallest control slowdown detected in >= {curve.goal:.0%} of (run, control) trials: **{smallest}** "
            f"(control tolerance {calibration.control_tolerance_pct:g}%; after-latencies of "
            f"{len(curve.controls)} controls in the A/A runs scaled, then re-judged).",
            "",
            "| slowdown | " + " | ".join(f"{p.slowdown_pct}%" for p in curve.points) + " |",
            "|---|" + "---|" * len(curve.points),
            "| detected | " + " | ".join(_percent(p.detection) for p in curve.points) + " |",
        ]
    return "\n".join(lines) + "\n"


def _row(label: str, measured: str, r: Rate, goal: str, met: str, checks: list[tuple[str, int]]) -> str:
    named = ", ".join(f"`{check}` x{count}" for check, count in checks[:4]) or "none"
    return f"| {label} | {measured} | {r.text()} | {goal} | {met} | {named} |"


def _met(r: Rate, goal: float, below: bool = False) -> str:
    """Judged on the interval, as the gate judges speedups: with few runs 0 false alarms is not yet <= 5%."""
    if r.rate is None or r.low is None or r.high is None:
        return "n/a"
    inside, outside = (r.high <= goal, r.low > goal) if below else (r.low >= goal, r.high < goal)
    return "yes" if inside else "no" if outside else "not yet shown (more runs)"


def _percent(r: Rate) -> str:
    return "n/a" if r.rate is None else f"{r.rate:.0%}"
