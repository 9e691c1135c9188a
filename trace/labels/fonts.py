"""Font files for labels, found on the machine with graceful fallbacks.

Fonts dropped into label_templates/fonts/ win over system fonts. The Latin fonts
come from Debian's fonts-dejavu-core; Chinese text needs a CJK font such as
fonts-wqy-zenhei (TrueType outlines: usable for PNG and embeddable in PDF) or
fonts-noto-cjk (PNG only; PDF then falls back to a standard, non-embedded CJK
font). Without any of them text still renders, with Pillow's built-in font and
missing-glyph boxes where characters are unknown, and never fails.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from trace.labels.layouts import LAYOUT_DIR

SHIPPED_FONT_DIR = LAYOUT_DIR / "fonts"

FONT_CANDIDATES = {
    "regular": (
        "DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    ),
    "bold": (
        "DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
    ),
    "mono": (
        "DejaVuSansMono.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
    ),
    "cjk": (
        "wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ),
}

# Han, kana, Hangul, CJK punctuation and full-width forms: text with any of these
# is set in the CJK font, which also covers Latin letters and digits.
CJK_CHARACTER = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff"
    "\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]"
)


def needs_cjk(text: str) -> bool:
    """Whether `text` has characters that only a CJK font draws."""
    return CJK_CHARACTER.search(text) is not None


def font_role(text: str, role: str) -> str:
    """The font role for `text` in a field whose layout asks for `role`."""
    if needs_cjk(text) and font_path("cjk") is not None:
        return "cjk"
    return role


@cache
def font_path(role: str) -> Path | None:
    """The first font file found for `role` (regular, bold, mono, cjk), or None."""
    for candidate in FONT_CANDIDATES[role]:
        path = Path(candidate)
        if not path.is_absolute():
            path = SHIPPED_FONT_DIR / path
        if path.is_file():
            return path
    if role in ("bold", "mono"):
        return font_path("regular")
    return None
