"""Fitting text into a field: wrapping onto the allowed lines, then truncating."""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"

# Control characters could corrupt printer commands and make no sense on a label.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Where a line may break: after a space or hyphen, or before a CJK character.
_BREAK_AFTER = " -/"

Measure = Callable[[str], float]


def clean_text(text: str) -> str:
    """Printable text on one line: control characters become spaces, runs collapse."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # the common case, checked without building new strings
    return " ".join(_CONTROL.sub(" ", text).split())


def fit_lines(
    text: str, width: float, max_lines: int, measure: Measure, ellipsis: str = ELLIPSIS
) -> list[str]:
    """Split `text` into at most `max_lines` lines no wider than `width`.

    Breaks at spaces and hyphens where possible and anywhere otherwise (codes and
    Chinese have no spaces); the last line ends in an ellipsis when text is cut.
    """
    if measure(text) <= width:
        return [text] if text else []
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1:
        line, rest = _take_line(rest, width, measure)
        lines.append(line)
    if rest:
        lines.append(_truncate(rest, width, measure, ellipsis))
    return lines


def wrap_fixed_pitch(
    text: str, per_line: int, max_lines: int, ellipsis: str = ELLIPSIS
) -> list[str]:
    """fit_lines for text whose characters all have the same width, by counting.

    `per_line` is how many characters fit on a line.
    """
    per_line = max(per_line, len(ellipsis) + 1)
    lines: list[str] = []
    while len(text) > per_line and len(lines) < max_lines - 1:
        cut = _fixed_pitch_break(text, per_line)
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if len(text) > per_line:
        text = text[: per_line - len(ellipsis)].rstrip() + ellipsis
    if text:
        lines.append(text)
    return lines


def _fixed_pitch_break(text: str, per_line: int) -> int:
    before_space = text.rfind(" ", 1, per_line + 1)
    after_mark = max(text.rfind("-", 0, per_line), text.rfind("/", 0, per_line)) + 1
    cut = max(before_space, after_mark)
    return cut if cut > 0 else per_line


def _take_line(text: str, width: float, measure: Measure) -> tuple[str, str]:
    fits = _longest_prefix(text, width, measure)
    if fits >= len(text):
        return text, ""
    cut = next((i for i in range(fits, 0, -1) if _may_break(text, i)), fits)
    cut = max(cut, 1)  # always make progress, even if one character is too wide
    return text[:cut].rstrip(), text[cut:].lstrip()


def _truncate(text: str, width: float, measure: Measure, ellipsis: str) -> str:
    if measure(text) <= width:
        return text
    fits = _longest_prefix(text, width, lambda prefix: measure(prefix.rstrip() + ellipsis))
    return text[:fits].rstrip() + ellipsis


def _longest_prefix(text: str, width: float, measure: Measure) -> int:
    """Length of the longest prefix of `text` that fits (binary search)."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _may_break(text: str, i: int) -> bool:
    """Whether a line may end between text[i - 1] and text[i]."""
    before, after = text[i - 1], text[i]
    return after == " " or before in _BREAK_AFTER or _is_wide(before) or _is_wide(after)


def _is_wide(char: str) -> bool:
    return char >= "\u2e80"
