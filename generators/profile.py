"""A profile of a real agent_events table (written by `python -m bench profile`) turned into a DatasetSpec, the
fits that go into a profile, and the fidelity comparison of two profiles.

A profile holds aggregate statistics only: counts, shares, quantiles and fitted exponents, plus category names
the user allowed (see bench/profile.py). `spec_from_profile` maps it onto the generator's knobs, so the same
shape can be generated at any row count; `compare_profiles` puts a profile of the generated data beside the
source profile with a tolerance per statistic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from generators.categories import AGENTS, EVENT_TYPES, SEVERITIES, TAGS
from generators.event_mix import TAG_COUNT_CDF
from generators.events import generate_batches
from generators.shape import MAX_FILE_PATHS, MAX_FILES_PER_PROJECT, DatasetSpec, SpecError

# History: 1 = first version.
PROFILE_SCHEMA_VERSION = 1
PROFILE_KIND = "agent_events profile"
STRUCTURAL_TYPES = ("session_start", "session_end")
RESPONSE_AFTER_REQUEST = 0.9  # generators/events.py turns 90% of the events after an llm_request into responses
# Concentration statistics come from projects with enough file events for the top-10 share to mean something.
MIN_FILE_EVENTS_FOR_CONCENTRATION = 100
CALIBRATION_ROWS = 20_000  # rows generated to calibrate the severity mix
CALIBRATED_ROWS = 50_000  # profiled rows the fidelity tolerances are calibrated on (the ci preset)


class ProfileError(SpecError):
    """A profile file is unusable; the message says what is wrong and how to get a good one."""


# ---- fits (used by bench/profile.py while it writes a profile) ------------------------------------------------


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of values where each value counts `weight` times (the lower value at a tie, like
    percentile_disc)."""
    order = np.argsort(values, kind="stable")
    ordered, cumulative = values[order], np.cumsum(weights[order])
    positions = np.searchsorted(cumulative, np.asarray(qs) * cumulative[-1], side="left")
    return [float(ordered[min(p, len(ordered) - 1)]) for p in positions]


def fit_zipf_exponent(counts: Sequence[int]) -> float | None:
    """Maximum-likelihood Zipf exponent of counts ranked largest first: the s whose mean log rank
    sum(r^-s ln r) / sum(r^-s) equals the counts' own; None for fewer than two ranks."""
    c = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    if len(c) < 2 or c.sum() <= 0:
        return None
    log_rank = np.log(np.arange(1, len(c) + 1))
    observed = float((c * log_rank).sum() / c.sum())
    low, high = 0.0, 5.0
    for _ in range(60):  # the expected mean log rank falls as s grows
        s = (low + high) / 2
        weights = np.exp(-s * log_rank)
        low, high = (s, high) if float((weights * log_rank).sum() / weights.sum()) > observed else (low, s)
    return round((low + high) / 2, 4)


_Z = {0.25: -0.6745, 0.5: 0.0, 0.75: 0.6745, 0.9: 1.2816}


def fit_session_sigma(mean_events: float, quantiles: dict[float, float]) -> float:
    """Lognormal sigma of session lengths as the generator draws them (2 + a lognormal scaled to the mean):
    least squares on the log quantiles, with the location fixed by the mean."""
    middle_mean = max(mean_events - 2.0, 1e-3)
    sigmas = np.arange(0.05, 4.0001, 0.005)
    error = np.zeros_like(sigmas)
    for q, value in quantiles.items():
        predicted = math.log(middle_mean) - sigmas**2 / 2 + _Z[q] * sigmas
        error += (math.log(max(value - 2.0, 0.5)) - predicted) ** 2
    return round(float(sigmas[int(np.argmin(error))]), 3)


def _zipf_weights(files: int, s: float) -> np.ndarray:
    w = np.arange(1, files + 1, dtype=np.float64) ** -s
    return w / w.sum()


def _expected_distinct(q: np.ndarray, n: np.ndarray, projects: np.ndarray) -> float:
    """Expected distinct values over projects that draw n[i] times (projects[i] of them) from q."""
    log_miss = np.log1p(-np.minimum(q, 1 - 1e-12))
    return float(sum(k * (1.0 - np.exp(m * log_miss)).sum() for m, k in zip(n, projects, strict=True)))


def fit_file_popularity(
    events: Sequence[int], distinct: Sequence[int], top10: Sequence[int]
) -> tuple[int, float] | None:
    """(files per project, Zipf exponent) that reproduce the per-project distinct file paths and the share of
    file events on each project's 10 most frequent paths; None without file events.

    For each candidate file count the exponent is solved from the top-10 share (projects with enough events),
    and the file count whose expected distinct total matches the observed one is kept."""
    n = np.asarray(events, dtype=np.float64)
    d = np.asarray(distinct, dtype=np.float64)
    t10 = np.asarray(top10, dtype=np.float64)
    if not len(n) or n.sum() <= 0:
        return None
    big = n >= MIN_FILE_EVENTS_FOR_CONCENTRATION
    big = big if big.any() else n > 0
    share10 = float(t10[big].sum() / n[big].sum())
    # Projects grouped by event count (64 log-spaced groups at most) keep the expected-distinct sums cheap.
    values, counts = np.unique(n[n > 0], return_counts=True)
    if len(values) > 64:
        edges = np.geomspace(values[0], values[-1] * 1.0001, 65)
        group = np.digitize(values, edges)
        values = np.array([np.average(values[group == g], weights=counts[group == g]) for g in np.unique(group)])
        counts = np.array([counts[group == g].sum() for g in np.unique(group)])
    observed = float(d.sum())

    def exponent(files: int) -> float:
        if files <= 10:
            return 1.0  # every path is in the top 10: the share says nothing about the exponent
        low, high = 0.0, 5.0
        for _ in range(40):
            s = (low + high) / 2
            low, high = (s, high) if _zipf_weights(files, s)[:10].sum() < share10 else (low, s)
        return max(0.01, (low + high) / 2)

    def error(files: int) -> tuple[float, float]:
        s = exponent(files)
        expected = _expected_distinct(_zipf_weights(files, s), values, counts)
        return abs(math.log(max(expected, 1e-9) / observed)), s

    smallest = max(1, int(d.max()))
    candidates = sorted({round(float(f)) for f in np.geomspace(smallest, MAX_FILES_PER_PROJECT, 60)})
    scored = [(error(f), f) for f in candidates]
    (best_error, best_s), best = min(scored)
    # Refine between the neighbours of the best candidate.
    i = candidates.index(best)
    low, high = candidates[max(0, i - 1)], candidates[min(len(candidates) - 1, i + 1)]
    for f in sorted({round(float(x)) for x in np.linspace(low, high, 12)}):
        (e, s) = error(f)
        if e < best_error:
            best_error, best_s, best = e, s, f
    return best, round(best_s, 3)


# ---- profile -> spec ------------------------------------------------------------------------------------------


def read_profile(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A profile document from a path (or an already parsed dict), checked for kind and schema version."""
    if isinstance(source, dict):
        doc = source
    else:
        path = Path(source)
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise ProfileError(
                f"no profile at {path}: write one with `python -m bench profile --dsn ... --out {path}`"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ProfileError(
                f"{path} is not a JSON profile ({e}); write one with `python -m bench profile`"
            ) from None
    if not isinstance(doc, dict) or doc.get("kind") != PROFILE_KIND:
        raise ProfileError(f"not an agent_events profile (kind {doc.get('kind') if isinstance(doc, dict) else None!r})")
    if doc.get("schema_version") != PROFILE_SCHEMA_VERSION:
        raise ProfileError(
            f"profile schema_version {doc.get('schema_version')!r} is not {PROFILE_SCHEMA_VERSION}, the version this "
            "harness reads; profile the database again with this version of `python -m bench profile`"
        )
    return doc


def _get(profile: dict[str, Any], *path: str) -> Any:
    value: Any = profile
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise ProfileError(f"the profile has no {'.'.join(path)}; profile the database again")
        value = value[key]
    return value


@dataclass(frozen=True)
class SpecFit:
    spec: DatasetSpec
    notes: tuple[str, ...]  # what the generator could not reproduce, and why


def spec_from_profile(profile: dict[str, Any], rows: int | None = None, seed: int | None = None) -> DatasetSpec:
    """A validated spec with the profile's shape at `rows` rows (default: the profiled table's row count)."""
    return fit_spec(profile, rows, seed).spec


def fit_spec(profile: dict[str, Any], rows: int | None = None, seed: int | None = None) -> SpecFit:
    """The spec of `spec_from_profile` with notes on what it cannot reproduce.

    At another row count the per-session and per-project shapes, the window and the mixes stay; the project
    count scales with the rows, so events per project keep their distribution."""
    profile = read_profile(profile)
    notes: list[str] = []
    source_rows = int(_get(profile, "rows", "count"))
    rows = source_rows if rows is None else int(rows)
    if rows < 2:
        raise ProfileError(f"rows={rows}: generate at least 2 rows")
    scale = rows / source_rows
    last = datetime.fromisoformat(_get(profile, "time", "last")).astimezone(UTC)
    first = datetime.fromisoformat(_get(profile, "time", "first")).astimezone(UTC)
    # The generated window ends on the next whole hour after the last event and starts at or before the first.
    reference = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    window_days = max(1, min(3_650, math.ceil((reference - first) / timedelta(days=1))))
    sessions = _get(profile, "sessions")
    mean_events = max(2.0, float(sessions["events"]["mean"]))
    knobs: dict[str, Any] = {
        "rows": rows,
        "seed": 42 if seed is None else seed,
        "reference_instant": reference,
        "window_days": window_days,
        "mean_events_per_session": round(mean_events, 4),
        "session_length_sigma": min(4.0, max(0.05, float(sessions["events_lognormal_sigma"]))),
        "resumed_session_fraction": min(1.0, max(0.0, float(sessions["resumed_fraction"]))),
        "weekend_activity": min(1.0, max(0.01, float(_get(profile, "time", "weekend_activity")))),
        "large_payload_fraction": min(1.0, max(0.0, float(_get(profile, "payload", "large_fraction")))),
        "null_metrics_fraction": min(1.0, max(0.0, float(_get(profile, "payload", "metrics_null_fraction")))),
    }
    if sessions.get("mean_event_gap_s"):
        knobs["mean_event_gap_s"] = max(0.001, float(sessions["mean_event_gap_s"]))
    if float(_get(profile, "time", "weekend_activity")) > 1.0:
        notes.append("weekends are busier than weekdays in the source; weekend_activity is capped at 1")
    session_count = max(1, min(rows // 2, round(rows / mean_events)))
    projects = max(1, round(int(_get(profile, "projects", "count")) * scale))
    if projects > session_count:
        notes.append(f"{projects} projects but {session_count} sessions at {rows:,} rows: every session is a project")
        projects = session_count
    knobs["projects"] = projects
    if _get(profile, "projects", "zipf_s") is not None:
        knobs["project_zipf_s"] = min(5.0, max(0.01, float(profile["projects"]["zipf_s"])))
    files = profile.get("file_paths") or {}
    if files.get("files_per_project_fit"):
        knobs["files_per_project"] = max(
            1, min(MAX_FILES_PER_PROJECT, MAX_FILE_PATHS // projects, files["files_per_project_fit"])
        )
        knobs["file_zipf_s"] = min(5.0, max(0.01, float(files["zipf_s"])))
    else:
        notes.append("the source has no file-path values to fit; files_per_project and file_zipf_s keep defaults")

    event_types = _named_shares(profile, "event_types", "shares", notes)
    if event_types:
        knobs["event_type_weights"] = _event_type_weights(event_types, notes)
        knobs["related_events_fraction"] = _related_fraction(profile, event_types)
    agents = _named_shares(profile, "agents", "session_shares", notes)
    if agents:
        knobs["agent_weights"] = _known_mix("agents", agents, [a.name for a in AGENTS], notes)
    tags = _named_shares(profile, "tags", "row_shares", notes)
    if tags:
        knobs["tag_weights"] = _tag_weights(tags, notes)
    spec = DatasetSpec(**{k: v for k, v in knobs.items() if v is not None})
    severity = _named_shares(profile, "severity", "shares", notes)
    if severity:
        spec = replace(spec, severity_weights=_severity_weights(spec, severity, notes))
    try:
        spec.validate()
    except SpecError as e:
        raise ProfileError(f"the profile maps to an unusable spec: {e}") from None
    return SpecFit(spec, tuple(notes))


def _named_shares(profile: dict[str, Any], section: str, key: str, notes: list[str]) -> dict[str, float] | None:
    part = profile.get(section) or {}
    shares = part.get(key)
    if not shares:
        return None
    if not part.get("named", False):
        notes.append(f"{section} names were not written to the profile (--allow-values): the built-in mix is used")
        return None
    return {str(name): float(share) for name, share in shares.items()}


def _known_mix(
    what: str, shares: dict[str, float], known: Sequence[str], notes: list[str]
) -> tuple[tuple[str, float], ...] | None:
    kept = {name: share for name, share in shares.items() if name in known and share > 0}
    unknown = {name: share for name, share in shares.items() if name not in known and share > 0}
    if unknown:
        names = ", ".join(sorted(unknown, key=lambda n: -unknown[n])[:5])
        notes.append(
            f"{what}: {sum(unknown.values()):.1%} of the source is not in the generator's vocabulary ({names}); "
            "the known ones are generated in proportion"
        )
    if not kept:
        notes.append(f"{what}: none of the source's names are known to the generator; the built-in mix is used")
        return None
    total = sum(kept.values())
    return tuple((name, round(share / total, 6)) for name, share in sorted(kept.items(), key=lambda kv: -kv[1]))


def _event_type_weights(shares: dict[str, float], notes: list[str]) -> tuple[tuple[str, float], ...] | None:
    """Draw weights of the middle events whose outcome, after 90% of the events following an llm_request
    become its llm_response, is the source's mix."""
    if not all(shares.get(t, 0.0) > 0 for t in STRUCTURAL_TYPES):
        notes.append("the source lacks session_start or session_end events; the generator begins and ends every "
                     "session with them")  # fmt: skip
    middle = {t: s for t, s in shares.items() if t not in STRUCTURAL_TYPES}
    mix = _known_mix("event types", middle, EVENT_TYPES, notes)
    if mix is None:
        return None
    target = dict(mix)
    request, response = target.get("llm_request", 0.0), target.get("llm_response", 0.0)
    converted = RESPONSE_AFTER_REQUEST * request
    weights = {t: m / (1 - converted) for t, m in target.items()}
    weights["llm_request"] = request
    # m_resp = w_resp (1 - 0.9 w_req) + 0.9 w_req (1 - w_req)
    floor = converted * (1 - request)
    if request:
        weights["llm_response"] = max(0.0, (response - floor) / (1 - converted))
        if response < floor:
            notes.append(
                f"llm_response: the generator answers 90% of llm_requests, so responses come out at ~{floor:.1%} "
                f"of the middle events instead of the source's {response:.1%}"
            )
    total = sum(weights.values())
    return tuple((t, round(w / total, 6)) for t, w in weights.items() if w > 0)


def _related_fraction(profile: dict[str, Any], event_types: dict[str, float]) -> float | None:
    """related_events_fraction: rows with related events besides commits and rollbacks (which always have them)."""
    related = (profile.get("payload") or {}).get("related_fraction")
    if related is None:
        return None
    always = event_types.get("commit_created", 0.0) + event_types.get("rollback_performed", 0.0)
    return round(min(1.0, max(0.0, (float(related) - always) / max(1e-9, 1 - always))), 6)


def _tag_weights(row_shares: dict[str, float], notes: list[str]) -> tuple[tuple[str, float], ...] | None:
    """Tag draw weights giving each known tag the source's share of rows (events draw 0-3 tags)."""
    mix = _known_mix("tags", row_shares, TAGS, notes)
    if mix is None:
        return None
    tag_count = np.diff(np.concatenate([[0.0], TAG_COUNT_CDF]))  # P(0), P(1), P(2), P(3 tags drawn)
    reachable = 1 - tag_count[0]
    weights = {}
    for tag in dict(mix):
        share = min(row_shares[tag], reachable - 1e-9)
        low, high = 0.0, 1.0
        for _ in range(50):  # share of rows with the tag = 1 - sum_k P(k) (1 - w)^k, rising in w
            w = (low + high) / 2
            got = 1 - float(sum(p * (1 - w) ** k for k, p in enumerate(tag_count)))
            low, high = (w, high) if got < share else (low, w)
        weights[tag] = (low + high) / 2
    total = sum(weights.values())
    return tuple((tag, round(w / total, 6)) for tag, w in weights.items())


def _severity_weights(
    spec: DatasetSpec, shares: dict[str, float], notes: list[str]
) -> tuple[tuple[str, float], ...] | None:
    """Base severity weights that, with the severities the generator sets itself (errors, rollbacks, failed
    commands), give the source's mix. Two small generated samples whose base severities are all debug and all
    info tell which rows the generator sets and to what."""
    mix = _known_mix("severity", shares, SEVERITIES, notes)
    if mix is None:
        return None
    sessions = max(1, min(CALIBRATION_ROWS // 2, round(CALIBRATION_ROWS / spec.mean_events_per_session)))
    sample = replace(spec, rows=CALIBRATION_ROWS, projects=min(spec.project_count, sessions, 50))
    outcomes = []
    for base in ("debug", "info"):
        batches = generate_batches(replace(sample, severity_weights=((base, 1.0),)), CALIBRATION_ROWS)
        outcomes.append(np.concatenate([b.severity for b in batches]))
    fixed = outcomes[0] == outcomes[1]
    fixed_fraction = float(fixed.mean())
    weights = {}
    for name, share in mix:
        set_by_generator = float((outcomes[0][fixed] == name).sum()) / CALIBRATION_ROWS
        weights[name] = max(0.0, share - set_by_generator) / max(1e-9, 1 - fixed_fraction)
    if sum(weights.values()) <= 0:
        notes.append("severity: the generator's own warnings and errors already exceed the source's; built-in mix")
        return None
    total = sum(weights.values())
    return tuple((name, round(w / total, 6)) for name, w in weights.items() if w > 0)


# ---- fidelity ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FidelityLine:
    statistic: str
    source: str
    generated: str
    tolerance: str
    passed: bool | None  # None: shown for information, no tolerance applies


# (label, path, kind, tolerance). Kinds: abs |g - s| <= tol; rel |g - s| <= tol * s; tvd: total variation
# distance of two mixes <= tol; count: rel after scaling the source by generated/source rows (projects scale
# with the rows, so per-project and per-session statistics keep their values at any scale).
# Tolerances: about twice the largest difference seen in 10 round trips of the ci preset (50k rows, 833
# sessions, 20 projects) regenerated with other seeds, i.e. the statistics' own sampling noise at that size.
# Smaller data is noisier; mixes and fractions tighten as data grows, per-project and top-share lines do not
# (20 projects stay 20 projects).
FIDELITY_CHECKS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("sessions", ("sessions", "count"), "count", 0.05),
    ("projects", ("projects", "count"), "count", 0.0),
    ("time span (days)", ("time", "span_days"), "abs", 1.0),
    ("weekend activity (weekend day / weekday)", ("time", "weekend_activity"), "abs", 0.12),
    ("session start hour-of-day mix (TVD)", ("time", "session_start_hour_shares"), "tvd", 0.15),
    ("top project share of rows", ("projects", "top_share"), "abs", 0.10),
    ("project Zipf exponent", ("projects", "zipf_s"), "abs", 0.25),
    ("events per session p50", ("sessions", "events", "p50"), "rel", 0.25),
    ("events per session p90", ("sessions", "events", "p90"), "rel", 0.30),
    ("session duration p50 (s)", ("sessions", "duration_s", "p50"), "rel", 0.25),
    ("session duration p90 (s)", ("sessions", "duration_s", "p90"), "rel", 0.40),
    ("resumed sessions", ("sessions", "resumed_fraction"), "abs", 0.03),
    ("event type mix (TVD)", ("event_types", "shares"), "tvd", 0.02),
    ("agent mix by session (TVD)", ("agents", "session_shares"), "tvd", 0.10),
    ("severity mix (TVD)", ("severity", "shares"), "tvd", 0.01),
    ("tag mix (TVD)", ("tags", "row_shares"), "tvd", 0.02),
    ("tags per row (TVD)", ("tags", "per_row"), "tvd", 0.015),
    ("data key frequency (TVD)", ("payload", "data_keys"), "tvd", 0.02),
    ("filePath distinct per project p50", ("file_paths", "distinct_per_project", "p50"), "rel", 0.35),
    ("filePath distinct in all projects", ("file_paths", "distinct_total"), "count", 0.10),
    ("filePath top-1 share per project", ("file_paths", "top1_share"), "abs", 0.03),
    ("filePath top-10 share per project", ("file_paths", "top10_share"), "abs", 0.03),
    ("filePath values seen once", ("file_paths", "singleton_fraction"), "abs", 0.03),
    ("data stored bytes p50", ("payload", "data_bytes", "p50"), "rel", 0.05),
    ("data stored bytes p90", ("payload", "data_bytes", "p90"), "rel", 0.15),
    ("data stored bytes p99", ("payload", "data_bytes", "p99"), "rel", 0.10),
    ("large payloads (> 2 kB stored)", ("payload", "large_fraction"), "abs", 0.001),
    ("metrics NULL", ("payload", "metrics_null_fraction"), "abs", 0.006),
    ("rows with a parent event", ("payload", "parent_fraction"), "abs", 0.008),
    ("rows with related events", ("payload", "related_fraction"), "abs", 0.005),
)


def _lookup(profile: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = profile
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _shares(profile: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, float] | list[float] | None:
    """A mix as {name: share} when named, else its shares largest first (names cannot be matched)."""
    if value is None:
        return None
    if isinstance(value, list):  # hour of day: position is the name
        return {str(i): float(v) for i, v in enumerate(value)}
    if path == ("tags", "per_row"):
        named = True  # by the number of tags
    elif path == ("payload", "data_keys"):
        named = bool(_lookup(profile, ("payload", "data_keys_named")))
    else:
        named = bool(_lookup(profile, (path[0], "named")))
    return {str(k): float(v) for k, v in value.items()} if named else sorted(map(float, value.values()), reverse=True)


def total_variation(a: dict[str, float] | list[float], b: dict[str, float] | list[float]) -> float:
    """Half the L1 distance of two mixes, each normalised to sum to 1 (by rank when either is unnamed)."""
    if isinstance(a, dict) and isinstance(b, dict):
        names = sorted(set(a) | set(b))
        x, y = np.array([a.get(n, 0.0) for n in names]), np.array([b.get(n, 0.0) for n in names])
    else:
        xs = sorted(a.values() if isinstance(a, dict) else a, reverse=True)
        ys = sorted(b.values() if isinstance(b, dict) else b, reverse=True)
        size = max(len(xs), len(ys))
        x, y = np.zeros(size), np.zeros(size)
        x[: len(xs)], y[: len(ys)] = xs, ys
    if x.sum() <= 0 or y.sum() <= 0:
        return 1.0
    return float(np.abs(x / x.sum() - y / y.sum()).sum() / 2)


def compare_profiles(source: dict[str, Any], generated: dict[str, Any]) -> list[FidelityLine]:
    """The fidelity report: each statistic of the source profile beside the generated data's, with its tolerance."""
    source, generated = read_profile(source), read_profile(generated)
    scale = float(_get(generated, "rows", "count")) / float(_get(source, "rows", "count"))
    profiled = [int(p["sampling"].get("sampled_rows", p["rows"]["count"])) for p in (source, generated)]
    lines = [
        _rows_line(source, generated, scale),
        # The tolerances are calibrated on 50,000 profiled rows; fewer rows are noisier.
        FidelityLine("rows profiled", _fmt(profiled[0]), _fmt(profiled[1]), f">= {CALIBRATED_ROWS:,} for these", None),
    ]
    for label, path, kind, tolerance in FIDELITY_CHECKS:
        s, g = _lookup(source, path), _lookup(generated, path)
        if kind == "tvd":
            a, b = _shares(source, path, s), _shares(generated, path, g)
            if a is None or b is None:
                lines.append(FidelityLine(label, _fmt(s), _fmt(g), f"TVD <= {tolerance}", None))
                continue
            distance = total_variation(a, b)
            shown = f"TVD {distance:.4f} ({_fmt(g)})"
            lines.append(FidelityLine(label, _fmt(s), shown, f"TVD <= {tolerance}", distance <= tolerance))
            continue
        if s is None or g is None:
            lines.append(FidelityLine(label, _fmt(s), _fmt(g), "", None))
            continue
        s, g = float(s), float(g)
        if kind == "count":
            expected = max(1.0, round(s * scale))
            exact = all(_lookup(p, (path[0], "exact")) is not False for p in (source, generated))
            # Counts estimated from a sample get at least 15%.
            allowed = (tolerance if exact else max(tolerance, 0.15)) * expected
            shown = _fmt(s) if scale == 1 else f"{_fmt(s)} x{scale:.3g} = {_fmt(expected)}"
            text = "exact" if allowed == 0 else f"±{allowed / expected:.0%}"
            lines.append(FidelityLine(label, shown, _fmt(g), text, abs(g - expected) <= allowed))
        elif kind == "abs":
            lines.append(FidelityLine(label, _fmt(s), _fmt(g), f"±{tolerance:g}", abs(g - s) <= tolerance + 1e-12))
        else:
            lines.append(FidelityLine(label, _fmt(s), _fmt(g), f"±{tolerance:.0%}", abs(g - s) <= tolerance * abs(s)))
    return lines


def _rows_line(source: dict[str, Any], generated: dict[str, Any], scale: float) -> FidelityLine:
    s, g = source["rows"]["count"], generated["rows"]["count"]
    if scale != 1:
        return FidelityLine("rows", _fmt(s), _fmt(g), f"scaled x{scale:.3g}", None)
    exact = source["rows"].get("exact") and generated["rows"].get("exact")
    return FidelityLine(
        "rows", _fmt(s), _fmt(g), "exact" if exact else "±1%", s == g if exact else abs(g - s) <= 0.01 * s
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict | list):
        return f"{len(value)} values"
    number = float(value)
    if abs(number) >= 1_000 or (number == int(number) and abs(number) >= 1):
        return f"{number:,.0f}"
    return f"{number:.4g}"


def fidelity_passed(lines: Sequence[FidelityLine]) -> bool:
    return all(line.passed is not False for line in lines)


def format_fidelity(lines: Sequence[FidelityLine]) -> str:
    rows = [("statistic", "source", "generated", "tolerance", "")]
    rows += [
        (
            line.statistic,
            line.source,
            line.generated,
            line.tolerance,
            {True: "pass", False: "FAIL", None: "-"}[line.passed],
        )
        for line in lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    failed = sum(line.passed is False for line in lines)
    judged = sum(line.passed is not None for line in lines)
    text.append(f"{judged - failed} of {judged} statistics within tolerance" + (f"; {failed} FAIL" if failed else ""))
    return "\n".join(text)
