"""Where the QR symbol goes inside a layout's QR box, and how big its modules are.

The symbol and its quiet zone are centred in the box. Raster outputs (PNG, ZPL) use
a whole number of dots per module so that every module prints the same size; vector
outputs (PDF, SVG) fill the box. Either way a module smaller than 0.4 mm at print
size is refused: such a label would be hard to scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from trace.labels.layouts import Layout
from trace.labels.qr import QUIET_ZONE

MIN_MODULE_MM = 0.4
MM_PER_INCH = 25.4


class QRTooSmall(ValueError):
    """The layout cannot print this QR symbol with modules of at least 0.4 mm."""


@dataclass(frozen=True, slots=True)
class QRPlacement:
    """Top-left corner of the symbol (inside its quiet zone) and the module size.

    Units are those of the output: dots for raster, millimetres for vector.
    """

    x: float
    y: float
    module: float
    module_mm: float


def raster_placement(
    layout: Layout, modules: int, dpi: int, max_module: int | None = None
) -> QRPlacement:
    """Placement in whole dots at `dpi` for a symbol `modules` wide.

    `max_module` caps the dots per module (ZPL's ^BQ magnifies by 10 at most).
    """
    box = layout.qr
    dots_per_mm = dpi / MM_PER_INCH
    box_dots = int(box.size_mm * dots_per_mm + 1e-9)
    total = modules + 2 * QUIET_ZONE
    module = box_dots // total
    if max_module is not None:
        module = min(module, max_module)
    module_mm = module / dots_per_mm
    _check(layout, modules, module_mm, f"{dpi} dpi")
    margin = (box_dots - module * total) // 2 + module * QUIET_ZONE
    x = round(box.x_mm * dots_per_mm) + margin
    y = round(box.y_mm * dots_per_mm) + margin
    return QRPlacement(x, y, module, module_mm)


def vector_placement(layout: Layout, modules: int) -> QRPlacement:
    """Placement in millimetres for a symbol `modules` wide, filling the QR box."""
    box = layout.qr
    module = box.size_mm / (modules + 2 * QUIET_ZONE)
    _check(layout, modules, module, "print size")
    margin = module * QUIET_ZONE
    return QRPlacement(box.x_mm + margin, box.y_mm + margin, module, module)


def _check(layout: Layout, modules: int, module_mm: float, where: str) -> None:
    if module_mm >= MIN_MODULE_MM - 1e-9:
        return
    version = (modules - 17) // 4
    needed = (modules + 2 * QUIET_ZONE) * MIN_MODULE_MM
    raise QRTooSmall(
        f"layout {layout.name}: a version {version} QR code needs at least {needed:.1f} mm "
        f"for {MIN_MODULE_MM} mm modules (more when rounded to whole printer dots), but "
        f"its QR box is {layout.qr.size_mm} mm and modules would be {module_mm:.2f} mm at "
        f"{where}; use a larger layout, a higher resolution or a shorter URL (the "
        "upper-case short form gives the smallest code)"
    )
