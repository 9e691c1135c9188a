"""Label layouts: the TOML files in label_templates/, read into frozen dataclasses.

A label layout places a QR box and text fields on one label; a sheet layout puts a
grid of one label layout on office paper (A4 or Letter). Files are validated when
loaded so that a mistake in a layout shows up as a clear error, not as a label with
overlapping text or an unreadable QR code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LAYOUT_DIR = Path(__file__).resolve().parents[2] / "label_templates"

POINT_MM = 25.4 / 72
LINE_SPACING = 1.15  # line pitch as a multiple of the font size
BASELINE = 0.8  # baseline below the top of a line, as a multiple of the font size
FIELD_NAMES = ("product_name", "serial", "lot", "produced_on", "code_display", "gtin")
FONTS = ("regular", "bold", "mono")
ERROR_CORRECTION_LEVELS = ("L", "M", "Q", "H")
ZPL_DPIS = (152, 203, 300, 600)

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class UnknownLayout(ValueError):
    """No layout of that name exists in label_templates/."""


class LayoutError(ValueError):
    """A layout file exists but is malformed or inconsistent."""


@dataclass(frozen=True)
class TextField:
    """A text field; `name` is a LabelData attribute, or "static" for fixed `text`."""

    name: str
    x_mm: float
    y_mm: float
    width_mm: float
    size_pt: float
    lines: int = 1
    font: str = "regular"
    prefix: str = ""
    text: str = ""

    @property
    def size_mm(self) -> float:
        return self.size_pt * POINT_MM

    @property
    def pitch_mm(self) -> float:
        """Distance between the tops of two consecutive lines."""
        return self.size_mm * LINE_SPACING

    @property
    def height_mm(self) -> float:
        return self.pitch_mm * self.lines

    def baseline_mm(self, line: int) -> float:
        """Distance from the label's top edge to the baseline of line `line` (0-based).

        Every output places text by this one rule so that they all look alike.
        """
        return self.y_mm + line * self.pitch_mm + BASELINE * self.size_mm


@dataclass(frozen=True)
class QRBox:
    """The square that holds the QR symbol together with its quiet zone."""

    x_mm: float
    y_mm: float
    size_mm: float
    error_correction: str = "M"


@dataclass(frozen=True)
class ZplSettings:
    dpi: int
    template: str
    cjk_font: str | None = None

    @property
    def dots_per_mm(self) -> float:
        return self.dpi / 25.4


@dataclass(frozen=True)
class Layout:
    """One label: its size, default raster resolution, QR box and text fields."""

    name: str
    description: str
    width_mm: float
    height_mm: float
    dpi: int
    qr: QRBox
    fields: tuple[TextField, ...]
    static: tuple[TextField, ...]
    zpl: ZplSettings


@dataclass(frozen=True)
class PaperGrid:
    """Where the labels sit on one paper size."""

    paper: str
    width_mm: float
    height_mm: float
    columns: int
    rows: int
    margin_left_mm: float
    margin_top_mm: float
    gap_x_mm: float
    gap_y_mm: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def label_origin(self, index: int, label: Layout) -> tuple[float, float]:
        """Top-left corner, in mm from the paper's top-left, of the index-th label."""
        row, column = divmod(index, self.columns)
        x = self.margin_left_mm + column * (label.width_mm + self.gap_x_mm)
        y = self.margin_top_mm + row * (label.height_mm + self.gap_y_mm)
        return x, y


@dataclass(frozen=True)
class Sheet:
    """A grid of one label layout on office paper."""

    name: str
    description: str
    label: Layout
    papers: tuple[PaperGrid, ...]
    default_paper: str

    def grid(self, paper: str | None = None) -> PaperGrid:
        """The grid for `paper` ("A4", "Letter"; case-insensitive)."""
        wanted = (paper or self.default_paper).lower()
        for grid in self.papers:
            if grid.paper.lower() == wanted:
                return grid
        known = ", ".join(grid.paper for grid in self.papers)
        raise ValueError(f"sheet {self.name} has no grid for paper {paper!r} (known: {known})")


def list_layouts(directory: Path | None = None) -> list[str]:
    """Names of all layouts (labels and sheets), sorted."""
    folder = directory or LAYOUT_DIR
    return sorted(path.stem for path in folder.glob("*.toml") if _NAME.fullmatch(path.stem))


def load_layout(name: str, directory: Path | None = None) -> Layout | Sheet:
    """Read and validate the layout `name`; raises UnknownLayout if there is none."""
    return _load(name, directory or LAYOUT_DIR)


@cache
def resolve_layout(layout: Layout | Sheet | str) -> Layout | Sheet:
    """A layout object, loading it first when given a name."""
    return load_layout(layout) if isinstance(layout, str) else layout


def label_layout(layout: Layout | Sheet | str) -> Layout:
    """The single-label layout: the layout itself, or the label of a sheet."""
    resolved = resolve_layout(layout)
    return resolved.label if isinstance(resolved, Sheet) else resolved


@cache
def _load(name: str, folder: Path) -> Layout | Sheet:
    # The name may come from a request: only plain names, never a path.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnknownLayout(f"unknown label layout {name!r}: not a layout name")
    path = folder / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(list_layouts(folder))
        raise UnknownLayout(f"unknown label layout {name!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") == "sheet":
            return _sheet(name, data, folder)
        return _label(name, data, folder)
    except (KeyError, TypeError, ValueError, OSError) as error:
        if isinstance(error, UnknownLayout | LayoutError):
            raise
        raise LayoutError(f"layout {name}: {error!r}") from error


def _label(name: str, data: dict, folder: Path) -> Layout:
    if data.get("kind", "label") != "label":
        raise LayoutError(f"layout {name}: kind must be 'label' or 'sheet'")
    layout = Layout(
        name=name,
        description=str(data.get("description", "")),
        width_mm=_positive(data, "width_mm"),
        height_mm=_positive(data, "height_mm"),
        dpi=int(data.get("dpi", 300)),
        qr=_qr_box(data["qr"]),
        fields=tuple(_text_field(item) for item in data.get("fields", [])),
        static=tuple(_static_field(item) for item in data.get("static", [])),
        zpl=_zpl(data.get("zpl", {}), folder),
    )
    if not 72 <= layout.dpi <= 2400:
        raise LayoutError(f"layout {name}: dpi must be 72 to 2400")
    _check_label(layout)
    return layout


def _qr_box(data: dict) -> QRBox:
    box = QRBox(
        x_mm=float(data["x_mm"]),
        y_mm=float(data["y_mm"]),
        size_mm=_positive(data, "size_mm"),
        error_correction=str(data.get("error_correction", "M")).upper(),
    )
    if box.error_correction not in ERROR_CORRECTION_LEVELS:
        raise LayoutError(f"QR error correction must be one of {ERROR_CORRECTION_LEVELS}")
    return box


def _text_field(data: dict) -> TextField:
    field = _field(data, name=str(data["name"]), text="")
    if field.name not in FIELD_NAMES:
        raise LayoutError(f"unknown field {field.name!r}; fields are {', '.join(FIELD_NAMES)}")
    return field


def _static_field(data: dict) -> TextField:
    return _field(data, name="static", text=str(data["text"]))


def _field(data: dict, name: str, text: str) -> TextField:
    field = TextField(
        name=name,
        x_mm=float(data["x_mm"]),
        y_mm=float(data["y_mm"]),
        width_mm=_positive(data, "width_mm"),
        size_pt=_positive(data, "size_pt"),
        lines=int(data.get("lines", 1)),
        font=str(data.get("font", "regular")),
        prefix=str(data.get("prefix", "")),
        text=text,
    )
    if field.font not in FONTS or field.lines < 1:
        raise LayoutError(f"field {name}: font must be one of {FONTS} and lines at least 1")
    return field


def _zpl(data: dict, folder: Path) -> ZplSettings:
    dpi = int(data.get("dpi", 203))
    if dpi not in ZPL_DPIS:
        raise LayoutError(f"ZPL dpi must be one of {ZPL_DPIS}")
    template_name = data.get("template")
    template = (folder / template_name).read_text(encoding="utf-8") if template_name else ""
    return ZplSettings(dpi=dpi, template=template, cjk_font=data.get("cjk_font"))


def _positive(data: dict, key: str) -> float:
    value = float(data[key])
    if value <= 0:
        raise LayoutError(f"{key} must be positive")
    return value


def _check_label(layout: Layout) -> None:
    qr = layout.qr
    boxes = [("QR box", qr.x_mm, qr.y_mm, qr.size_mm, qr.size_mm)]
    for field in (*layout.fields, *layout.static):
        boxes.append((field.name, field.x_mm, field.y_mm, field.width_mm, field.height_mm))
    for label, x, y, width, height in boxes:
        if x < 0 or y < 0 or x + width > layout.width_mm + 1e-6:
            raise LayoutError(f"layout {layout.name}: {label} lies outside the label")
        if y + height > layout.height_mm + 1e-6:
            raise LayoutError(f"layout {layout.name}: {label} lies outside the label")
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            if _overlap(first[1:], second[1:]):
                raise LayoutError(f"layout {layout.name}: {first[0]} overlaps {second[0]}")


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    eps = 1e-6
    return ax < bx + bw - eps and bx < ax + aw - eps and ay < by + bh - eps and by < ay + ah - eps


def _sheet(name: str, data: dict, folder: Path) -> Sheet:
    if data["label"] == name:
        raise LayoutError(f"sheet {name} names itself as its label")
    label = _load(str(data["label"]), folder)
    if not isinstance(label, Layout):
        raise LayoutError(f"sheet {name}: {data['label']} is not a label layout")
    papers = tuple(_paper_grid(paper, grid) for paper, grid in data["paper"].items())
    sheet = Sheet(
        name=name,
        description=str(data.get("description", "")),
        label=label,
        papers=papers,
        default_paper=str(data.get("default_paper", papers[0].paper)),
    )
    for grid in papers:
        _check_grid(sheet, grid)
    sheet.grid()  # the default paper must exist
    return sheet


def _paper_grid(paper: str, data: dict) -> PaperGrid:
    return PaperGrid(
        paper=paper,
        width_mm=_positive(data, "width_mm"),
        height_mm=_positive(data, "height_mm"),
        columns=int(data["columns"]),
        rows=int(data["rows"]),
        margin_left_mm=float(data["margin_left_mm"]),
        margin_top_mm=float(data["margin_top_mm"]),
        gap_x_mm=float(data.get("gap_x_mm", 0)),
        gap_y_mm=float(data.get("gap_y_mm", 0)),
    )


def _check_grid(sheet: Sheet, grid: PaperGrid) -> None:
    if grid.columns < 1 or grid.rows < 1:
        raise LayoutError(f"sheet {sheet.name}: {grid.paper} needs at least one row and column")
    right, bottom = grid.label_origin(grid.per_page - 1, sheet.label)
    right += sheet.label.width_mm
    bottom += sheet.label.height_mm
    if right > grid.width_mm + 1e-6 or bottom > grid.height_mm + 1e-6:
        raise LayoutError(f"sheet {sheet.name}: the {grid.paper} grid does not fit the paper")
