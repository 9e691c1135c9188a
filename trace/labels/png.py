"""A minimal PNG writer for label images, black-and-white or greyscale.

Pillow's PNG encoder spends some 100 microseconds per call before the first pixel
and packs 1-bit rows slowly; on small labels that is more than the drawing itself.
A PNG is a handful of chunks around one zlib stream, so it is written here.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INCHES_PER_METRE = 1 / 0.0254
# Pillow packs 1-bit pixels fastest least significant bit first ("1;R");
# PNG wants the most significant bit first.
_REVERSE_BITS = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def encode_png(image: Image.Image, dpi: int, compress_level: int = 1) -> bytes:
    """Encode a "1" (black and white) or "L" (greyscale) image as PNG.

    The print resolution goes into the pHYs chunk so that the label prints at size.
    """
    if image.mode not in ("1", "L"):
        image = image.convert("L")
    width, height = image.size
    bit_depth = 1 if image.mode == "1" else 8
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    pixels_per_metre = round(dpi * _INCHES_PER_METRE)
    physical = struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1)
    return b"".join(
        (
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"pHYs", physical),
            _chunk(b"IDAT", zlib.compress(_filtered_rows(image), compress_level)),
            _chunk(b"IEND", b""),
        )
    )


def _filtered_rows(image: Image.Image) -> bytes:
    """Pixel rows each preceded by PNG filter type 0 (none).

    Pasting the image one byte's worth of pixels to the right on a black canvas
    gives exactly that layout: the first byte of every row is zero.
    """
    width, height = image.size
    if image.mode == "L":
        framed = Image.new("L", (width + 1, height), 0)
        framed.paste(image, (1, 0))
        return framed.tobytes()
    framed = Image.new("1", (width + 8, height), 0)
    framed.paste(image, (8, 0))
    return framed.tobytes("raw", "1;R").translate(_REVERSE_BITS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
