"""Every word a verdict can be, with what it means for the migration; the one vocabulary of judge, gate and report.

The words are a StrEnum, so results documents keep the plain strings they always held ("within", "not met")
and a word read back from JSON compares equal to its member. Each word has a meaning: good (the migration does
what was promised, or better), bad (it does not), unclear (the interval cannot tell), failed (nothing was
measured because the measurement failed), or neutral (a figure reported without a bound to hold it to).
Which words each rule produces is listed below, so the gate can refuse a word its rule never gives.
"""

from __future__ import annotations

from enum import StrEnum


class Meaning(StrEnum):
    GOOD = "good"
    BAD = "bad"
    UNCLEAR = "unclear"
    FAILED = "failed"
    NEUTRAL = "neutral"


class VerdictWord(StrEnum):
    # speedup_range promises: where the speedup interval lies against the promised range
    WITHIN = "within"
    ABOVE = "above"
    BELOW = "below"
    # max and min bounds (storage overhead, ingest rate, P95 latency)
    MET = "met"
    NOT_MET = "not met"
    # controls: queries the migration should leave alone
    OK = "ok"
    IMPROVED = "improved"
    REGRESSION = "regression"
    # claims (idempotent, non-blocking, backward compatible)
    HELD = "held"
    NOT_HELD = "not held"
    # any rule
    INCONCLUSIVE = "inconclusive"
    FAILED = "failed"
    REPORTED = "reported"
    NOT_MEASURED = "not measured"

    @property
    def meaning(self) -> Meaning:
        return _MEANINGS[self]

    @property
    def description(self) -> str:
        """What the word says, for legends and docs."""
        return _DESCRIPTIONS[self]


_MEANINGS: dict[VerdictWord, Meaning] = {
    VerdictWord.WITHIN: Meaning.GOOD,
    VerdictWord.ABOVE: Meaning.GOOD,
    VerdictWord.BELOW: Meaning.BAD,
    VerdictWord.MET: Meaning.GOOD,
    VerdictWord.NOT_MET: Meaning.BAD,
    VerdictWord.OK: Meaning.GOOD,
    VerdictWord.IMPROVED: Meaning.GOOD,
    VerdictWord.REGRESSION: Meaning.BAD,
    VerdictWord.HELD: Meaning.GOOD,
    VerdictWord.NOT_HELD: Meaning.BAD,
    VerdictWord.INCONCLUSIVE: Meaning.UNCLEAR,
    VerdictWord.FAILED: Meaning.FAILED,
    VerdictWord.REPORTED: Meaning.NEUTRAL,
    # Nothing is known; the gate decides by whether the run was filtered (-k) on purpose.
    VerdictWord.NOT_MEASURED: Meaning.UNCLEAR,
}
_DESCRIPTIONS: dict[VerdictWord, str] = {
    VerdictWord.WITHIN: "interval inside the promise",
    VerdictWord.ABOVE: "faster than promised",
    VerdictWord.BELOW: "interval under the promise",
    VerdictWord.MET: "interval on the right side of the bound",
    VerdictWord.NOT_MET: "interval on the wrong side of the bound",
    VerdictWord.OK: "no slowdown beyond tolerance",
    VerdictWord.IMPROVED: "control got faster",
    VerdictWord.REGRESSION: "slower beyond tolerance",
    VerdictWord.HELD: "the claim holds",
    VerdictWord.NOT_HELD: "the claim does not hold",
    VerdictWord.INCONCLUSIVE: "interval crosses a bound",
    VerdictWord.FAILED: "no estimate",
    VerdictWord.REPORTED: "reported without a bound",
    VerdictWord.NOT_MEASURED: "none of its cases ran",
}

# The words each rule of bench.judge.verdicts can give.
SPEEDUP_RANGE_WORDS = frozenset(
    {VerdictWord.WITHIN, VerdictWord.ABOVE, VerdictWord.BELOW, VerdictWord.INCONCLUSIVE, VerdictWord.FAILED}
)
BOUND_WORDS = frozenset({VerdictWord.MET, VerdictWord.NOT_MET, VerdictWord.INCONCLUSIVE, VerdictWord.FAILED})
CONTROL_WORDS = frozenset(
    {VerdictWord.OK, VerdictWord.IMPROVED, VerdictWord.REGRESSION, VerdictWord.INCONCLUSIVE, VerdictWord.FAILED}
)
CLAIM_WORDS = frozenset(
    {VerdictWord.HELD, VerdictWord.NOT_HELD, VerdictWord.INCONCLUSIVE, VerdictWord.FAILED, VerdictWord.REPORTED}
)


def verdict_word(text: str) -> VerdictWord | None:
    """The word a results document holds (any case, as tables print them upper-case); None when unknown."""
    try:
        return VerdictWord(text.lower())
    except ValueError:
        return None
