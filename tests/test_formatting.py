"""How figures are written (bench.core.formatting) and the one vocabulary of verdicts (bench.core.verdict_words)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bench.core import formatting as fmt
from bench.core.verdict_words import Meaning, VerdictWord, verdict_word
from bench.report.figure_style import VERDICT_COLOURS, verdict_colour


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.9653, "0.965"),
        (0.8, "0.8"),
        (1.0, "1"),
        (6.014, "6.01"),
        (12.34, "12.3"),
        (99.96, "100"),  # rounds up past 100 without turning into scientific notation
        (123.4, "123"),
        (999.7, "1,000"),  # .3g alone would print 1e+03
        (1258.0, "1,258"),
        (-3.21, "-3.21"),
        (-1234.0, "-1,234"),
    ],
)
def test_numbers_have_three_significant_figures_and_whole_thousands(value: float, text: str) -> None:
    assert fmt.number(value) == text


def test_fixed_decimals_keep_thousands_separators() -> None:
    assert fmt.number(1234.5678, 3) == "1,234.568"
    assert fmt.number(12.0, 1) == "12.0"
    assert fmt.number(49_999.6, 0) == "50,000"


def test_ratios_and_intervals() -> None:
    assert fmt.ratio(1.0712) == "1.07x"
    assert fmt.ratio(2_345.0) == "2,345x"
    assert fmt.interval(0.9213, 1.354) == "[0.921, 1.35]"
    assert fmt.ratio_interval(0.9653, 0.9321, 0.9934) == "0.965x [0.932, 0.993]"
    # a point without its interval is still worth printing; no point at all is missing
    assert fmt.ratio_interval(1.5, None, None) == "1.5x"
    assert fmt.ratio_interval(None, 0.9, 1.1) == fmt.MISSING
    assert fmt.interval(None, 1.0) == fmt.MISSING


def test_percentages_are_levels_or_signed_changes() -> None:
    assert fmt.percent(18.73) == "18.7%"
    assert fmt.percent(63.8, 0) == "64%"
    assert fmt.percent_change(18.73) == "+18.7%"
    assert fmt.percent_change(-3.0) == "-3.0%"
    assert fmt.percent_change(25.4, 0) == "+25%"
    assert fmt.percentage_points(1.25) == "+1.2 points"


def test_sizes_times_and_rates() -> None:
    assert fmt.mib(38.0 * 2**20) == "38.0 MiB"
    assert fmt.mib(1_536 * 2**20) == "1,536.0 MiB"
    assert fmt.milliseconds(12.345) == "12.3 ms"
    assert fmt.milliseconds(1_250.4, 0) == "1,250 ms"
    assert fmt.seconds(0.3127) == "0.313 s"
    assert fmt.seconds(754.6, 0) == "755 s"
    assert fmt.rate(50_122.4) == "50,122 rows/s"
    assert fmt.rate(12.5, "events/s") == "12.5 events/s"


@pytest.mark.parametrize(
    "write",
    [
        fmt.number,
        fmt.ratio,
        fmt.percent,
        fmt.percent_change,
        fmt.percentage_points,
        fmt.mib,
        fmt.milliseconds,
        fmt.seconds,
        fmt.rate,
    ],
)
def test_a_missing_figure_is_written_as_missing_never_as_zero(write: Callable[[None], str]) -> None:
    assert write(None) == fmt.MISSING


def test_verdict_words_stay_plain_strings_in_json() -> None:
    document = json.dumps({"verdict": VerdictWord.NOT_MET})
    assert document == '{"verdict": "not met"}'
    assert json.loads(document)["verdict"] == VerdictWord.NOT_MET
    assert f"{VerdictWord.NOT_MEASURED}" == "not measured"


def test_every_word_has_a_meaning_a_description_and_a_colour() -> None:
    for word in VerdictWord:
        assert isinstance(word.meaning, Meaning)
        assert word.description
        assert word in VERDICT_COLOURS, f"{word!r} has no colour"
    assert VerdictWord.NOT_MEASURED.meaning is Meaning.UNCLEAR
    assert {w.meaning for w in (VerdictWord.WITHIN, VerdictWord.HELD, VerdictWord.OK)} == {Meaning.GOOD}
    assert {w.meaning for w in (VerdictWord.BELOW, VerdictWord.NOT_HELD, VerdictWord.REGRESSION)} == {Meaning.BAD}


def test_words_are_read_back_in_any_case_and_unknown_words_are_none() -> None:
    assert verdict_word("NOT HELD") is VerdictWord.NOT_HELD
    assert verdict_word("splendid") is None
    assert verdict_colour("NOT HELD") == verdict_colour("below")
    assert verdict_colour("splendid", default="#222") == "#222"
