"""ZPL II for thermal label printers: one ^XA..^XZ format per label, a batch per file.

The layout's .zpl template gives the frame of each label; its placeholders are
filled with commands computed from the layout (positions in dots at the layout's
printer resolution). The printer draws the QR code itself (^BQ, model 2, error
correction M, automatic input mode), so a label costs only string formatting.

All field data goes through ^FH: the characters ^ and ~ (command prefixes) and _
(the hex escape itself) are written as hex escapes, and control characters are
dropped, so no product name or serial can ever inject a printer command.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TextIO

from trace.labels.content import LabelData, field_text
from trace.labels.fonts import CJK_CHARACTER, needs_cjk
from trace.labels.layouts import FIELD_NAMES, Layout, LayoutError, Sheet, TextField, label_layout
from trace.labels.placement import MM_PER_INCH, raster_placement
from trace.labels.qr import qr_version
from trace.labels.text import clean_text, fit_lines, wrap_fixed_pitch

_ESCAPES = str.maketrans({"^": "_5E", "~": "_7E", "_": "_5F"})
_COMMAND_CHARACTERS = re.compile("[_^~]")
_PLACEHOLDERS = frozenset({"width_dots", "height_dots", "qr", "static", *FIELD_NAMES})
# Width of an average character of printer font 0 as a share of its height; on
# the generous side so that estimated line breaks never overflow the field.
_CHAR_WIDTH = 0.6
_WIDE_CHAR_WIDTH = 1.0
_WIDE = CJK_CHARACTER
_PER_ITEM_FIELDS = frozenset({"serial", "code_display"})
_MAX_MAGNIFICATION = 10  # the largest ^BQ accepts


def render_zpl(layout: Layout | Sheet | str, labels: Iterable[LabelData]) -> str:
    """ZPL for all `labels`, one ^XA..^XZ format each, in one string."""
    out = io.StringIO()
    write_zpl(out, layout, labels)
    return out.getvalue()


def write_zpl(out: TextIO, layout: Layout | Sheet | str, labels: Iterable[LabelData]) -> None:
    """Write the ZPL of `labels` to the text file `out`, one label at a time."""
    for label_zpl in iter_zpl(layout, labels):
        out.write(label_zpl)


def iter_zpl(layout: Layout | Sheet | str, labels: Iterable[LabelData]) -> Iterator[str]:
    """Yield the ZPL of each label in turn (for streaming a batch to a printer)."""
    compiled = _compile(label_layout(layout))
    for label in labels:
        yield compiled.render(label)


def escape_field_data(text: str) -> str:
    """Field data safe after ^FH: command characters as hex escapes, no controls."""
    text = clean_text(text)
    # Most text has nothing to escape, and searching is cheaper than translating.
    return text.translate(_ESCAPES) if _COMMAND_CHARACTERS.search(text) else text


@dataclass(frozen=True, eq=False)  # hashed by identity: cheap as a cache key
class _FieldCommands:
    field: TextField
    height: int  # font height in dots
    width: int  # field width in dots
    starts: tuple[str, ...]  # per line: position and font, up to ^FD
    cjk_starts: tuple[str, ...]  # the same with the CJK font


class _CompiledLayout:
    """Everything about a layout's ZPL that does not depend on the label."""

    def __init__(self, layout: Layout) -> None:
        settings = layout.zpl
        if not settings.template:
            raise LayoutError(f"layout {layout.name} has no ZPL template")
        self.layout = layout
        self.dpi = settings.dpi
        self.pieces = _parse_template(layout.name, settings.template)
        self.fields = {f.name: _field_commands(layout, f) for f in layout.fields}
        self.qr_commands: dict[int, str] = {}
        self.constants = {
            "width_dots": str(_dots(layout.width_mm, self.dpi)),
            "height_dots": str(_dots(layout.height_mm, self.dpi)),
            "static": "\n".join(
                self._text(_field_commands(layout, field), field.text) for field in layout.static
            ),
        }

    def render(self, label: LabelData) -> str:
        values = dict(self.constants)
        values["qr"] = self._qr(label.url)
        for name, commands in self.fields.items():
            values[name] = self._text(commands, field_text(commands.field, label))
        return "".join(
            [piece if is_literal else values.get(piece, "") for is_literal, piece in self.pieces]
        )

    def _qr(self, url: str) -> str:
        if not url.isascii() or not url.isprintable():
            # Automatic input mode cannot carry other bytes; URLs are percent-encoded.
            raise ValueError(f"QR data for ZPL must be printable ASCII: {url!r}")
        version = qr_version(url, self.layout.qr.error_correction)
        command = self.qr_commands.get(version)
        if command is None:
            command = self.qr_commands[version] = _qr_command(self.layout, self.dpi, version)
        return command + escape_field_data(url) + "^FS"

    def _text(self, commands: _FieldCommands, text: str) -> str:
        if commands.field.name in _PER_ITEM_FIELDS:
            return _field_zpl(commands, text)
        return _repeated_field_zpl(commands, text)


@cache
def _compile(layout: Layout) -> _CompiledLayout:
    return _CompiledLayout(layout)


def _parse_template(name: str, template: str) -> tuple[tuple[bool, str], ...]:
    """The template as (is_literal, text or placeholder name) pieces."""
    pieces: list[tuple[bool, str]] = []
    for literal, placeholder, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append((True, literal))
        if placeholder is not None:
            if placeholder not in _PLACEHOLDERS:
                raise LayoutError(f"ZPL template of {name}: unknown placeholder {{{placeholder}}}")
            pieces.append((False, placeholder))
    text = "".join(piece for is_literal, piece in pieces if is_literal)
    names = {piece for is_literal, piece in pieces if not is_literal}
    if "^XA" not in text or "^XZ" not in text or "^CI28" not in text or "qr" not in names:
        raise LayoutError(f"ZPL template of {name} needs ^XA, ^CI28, {{qr}} and ^XZ")
    return tuple(pieces)


def _field_commands(layout: Layout, field: TextField) -> _FieldCommands:
    dpi = layout.zpl.dpi
    height = max(10, _dots(field.size_mm, dpi))
    x = _dots(field.x_mm, dpi)
    # ^FT places text by its baseline, the same rule the other outputs follow.
    baselines = [_dots(field.baseline_mm(line), dpi) for line in range(field.lines)]
    starts = tuple(f"^FT{x},{y}^A0N,{height},{height}^FH^FD" for y in baselines)
    cjk_font = layout.zpl.cjk_font
    cjk_starts = starts
    if cjk_font:
        cjk_starts = tuple(f"^FT{x},{y}^A@N,{height},{height},{cjk_font}^FH^FD" for y in baselines)
    return _FieldCommands(field, height, _dots(field.width_mm, dpi), starts, cjk_starts)


def _qr_command(layout: Layout, dpi: int, version: int) -> str:
    """^FO and ^BQ for a symbol of `version`, up to the field data's URL."""
    placement = raster_placement(layout, version * 4 + 17, dpi, max_module=_MAX_MAGNIFICATION)
    # ^FO is the symbol's corner: the quiet zone is the empty margin around it
    # that raster_placement keeps inside the QR box. The field data starts with
    # the switches: error correction level, then A for automatic input mode.
    switches = f"{layout.qr.error_correction}A,"
    return f"^FO{placement.x},{placement.y}^BQN,2,{int(placement.module)}^FH^FD{switches}"


def _field_zpl(commands: _FieldCommands, text: str) -> str:
    """The ^FT..^FS commands printing `text` in a field, a command per line."""
    text = clean_text(text)
    if not text:
        return ""
    starts = commands.cjk_starts if needs_cjk(text) else commands.starts
    lines = _fitted_lines(commands, text)
    commands_per_line = [
        f"{start}{escape_field_data(line)}^FS" for start, line in zip(starts, lines, strict=False)
    ]
    return "\n".join(commands_per_line)


# Product names, lots and dates repeat across a batch: their commands are cached.
_repeated_field_zpl = lru_cache(maxsize=1024)(_field_zpl)


def _fitted_lines(commands: _FieldCommands, text: str) -> list[str]:
    """Line breaks estimated from character counts: ZPL printers measure nothing.

    Text that is cut ends in three dots, as font 0 may lack "…".
    """
    height, field = commands.height, commands.field
    if text.isascii():
        per_line = int(commands.width // (height * _CHAR_WIDTH))
        return wrap_fixed_pitch(text, per_line, field.lines, ellipsis="...")

    def measure(line: str) -> float:
        wide = len(_WIDE.findall(line))
        return height * (_CHAR_WIDTH * (len(line) - wide) + _WIDE_CHAR_WIDTH * wide)

    return fit_lines(text, commands.width, field.lines, measure, ellipsis="...")


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)
