"""Label rendering: layouts, the QR encoder, and every output decoded back with zxing-cpp."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from qrcode import util as qr_util

from tests.trace.label_helpers import (
    CODE_DISPLAY,
    URLS,
    dark_run,
    decode,
    ink_box,
    make_label,
    numbered_labels,
    open_png,
    pdf_page_sizes,
    rasterise_pdf,
    rasterise_svg,
)
from trace.labels import (
    MIN_MODULE_MM,
    Layout,
    LayoutError,
    QRTooSmall,
    Sheet,
    UnknownLayout,
    fonts,
    iter_zpl,
    list_layouts,
    load_layout,
    pdf,
    raster,
    render_image,
    render_pdf,
    render_png,
    render_svg,
    render_zpl,
    zpl,
)
from trace.labels.layouts import LAYOUT_DIR
from trace.labels.placement import raster_placement, vector_placement
from trace.labels.qr import EC_BITS, QUIET_ZONE, data_mode, encode_qr, qr_version
from trace.labels.text import clean_text, fit_lines, wrap_fixed_pitch
from trace.labels.zpl import escape_field_data

LABEL_LAYOUTS = ["small-30x20", "medium-50x30"]
MM_PER_INCH = 25.4


# --- layouts ---------------------------------------------------------------------------


def test_the_shipped_layouts_are_listed():
    assert {"small-30x20", "medium-50x30", "sheet-a4-small"} <= set(list_layouts())


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_label_layouts_load_with_size_qr_box_and_zpl(name):
    layout = load_layout(name)
    assert isinstance(layout, Layout)
    assert layout.width_mm > 0 and layout.height_mm > 0 and layout.dpi >= 203
    assert {"product_name", "serial", "code_display"} <= {field.name for field in layout.fields}
    assert "^XA" in layout.zpl.template


def test_sheet_layout_has_a4_and_letter_grids_of_small_labels():
    sheet = load_layout("sheet-a4-small")
    assert isinstance(sheet, Sheet)
    assert sheet.label.name == "small-30x20"
    assert sheet.grid().paper == "A4"
    assert sheet.grid("letter").paper == "Letter"
    with pytest.raises(ValueError, match="no grid for paper"):
        sheet.grid("A3")


@pytest.mark.parametrize("name", ["no-such-layout", "../label_templates/small-30x20", "", "A4"])
def test_unknown_layout_is_a_clear_error(name):
    with pytest.raises(UnknownLayout, match="unknown label layout") as error:
        load_layout(name)
    assert isinstance(error.value, ValueError)


def test_renderers_accept_layout_names_and_reject_unknown_ones():
    assert decode(open_png(render_png("small-30x20", make_label()))) == [URLS["short"]]
    with pytest.raises(UnknownLayout):
        render_png("huge-100x100", make_label())


def _write_layout(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")


_MINIMAL_LAYOUT = """
kind = "label"
width_mm = 40
height_mm = 25
[qr]
x_mm = 1
y_mm = 1
size_mm = 23
[[fields]]
name = "{field}"
x_mm = {x}
y_mm = 2
width_mm = 14
size_pt = 6
[zpl]
dpi = 203
"""


@pytest.mark.parametrize(
    ("field", "x", "message"),
    [
        ("serial", 10, "overlaps"),
        ("serial", 30, "outside the label"),
        ("colour", 25, "unknown field"),
    ],
)
def test_inconsistent_layouts_are_refused(tmp_path, field, x, message):
    _write_layout(tmp_path, "broken", _MINIMAL_LAYOUT.format(field=field, x=x))
    with pytest.raises(LayoutError, match=message):
        load_layout("broken", directory=tmp_path)


def test_a_zpl_template_with_an_unknown_placeholder_is_refused(tmp_path):
    _write_layout(tmp_path, "tiny", _MINIMAL_LAYOUT.format(field="serial", x=25))
    (tmp_path / "tiny.zpl").write_text("^XA^CI28{qr}{colour}^XZ", encoding="utf-8")
    text = (tmp_path / "tiny.toml").read_text() + 'template = "tiny.zpl"\n'
    _write_layout(tmp_path, "tiny", text)
    with pytest.raises(LayoutError, match="unknown placeholder"):
        render_zpl(load_layout("tiny", directory=tmp_path), [make_label()])


# --- the QR encoder ----------------------------------------------------------------------


_QRCODE_MODES = {
    "numeric": qr_util.MODE_NUMBER,
    "alphanumeric": qr_util.MODE_ALPHA_NUM,
    "byte": qr_util.MODE_8BIT_BYTE,
}


def _reference_cells(data: str, error_correction: str, mask: int, version: int) -> bytes:
    symbol = qrcode.QRCode(
        version=version, error_correction=EC_BITS[error_correction], mask_pattern=mask, border=0
    )
    mode = _QRCODE_MODES[data_mode(data)]
    symbol.add_data(qr_util.QRData(data.encode(), mode=mode), optimize=0)
    symbol.make(fit=False)
    return bytes(1 if dark else 0 for row in symbol.modules for dark in row)


_QR_TEXT = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=400),
    st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", min_size=1, max_size=300),
    st.text(min_size=1, max_size=200),
)


@settings(max_examples=60, deadline=None)
@given(data=_QR_TEXT, error_correction=st.sampled_from("LMQH"), mask=st.integers(0, 7))
def test_encoder_matches_the_qrcode_package_module_for_module(data, error_correction, mask):
    symbol = encode_qr(data, error_correction, mask)
    assert symbol.cells == _reference_cells(data, error_correction, mask, symbol.version)


@pytest.mark.parametrize(("form", "version"), [("short", 4), ("upper", 3), ("digital-link", 5)])
def test_url_forms_get_the_expected_smallest_version(form, version):
    assert qr_version(URLS[form]) == version
    assert encode_qr(URLS[form]).version == version


# --- PNG ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", URLS)
@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_png_decodes_to_exactly_its_url(name, form):
    image = open_png(render_png(name, make_label(url=URLS[form])))
    assert decode(image) == [URLS[form]]


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_png_is_black_and_white_at_the_layout_resolution(name):
    layout = load_layout(name)
    image = open_png(render_png(layout, make_label()))
    assert image.mode == "1"
    assert image.size == (
        round(layout.width_mm / MM_PER_INCH * layout.dpi),
        round(layout.height_mm / MM_PER_INCH * layout.dpi),
    )
    assert round(image.info["dpi"][0]) == layout.dpi


def test_greyscale_png_and_other_resolutions_decode_too():
    label = make_label(url=URLS["digital-link"])
    assert decode(open_png(render_png("medium-50x30", label, greyscale=True))) == [label.url]
    assert decode(open_png(render_png("medium-50x30", label, dpi=203))) == [label.url]
    assert decode(open_png(render_png("small-30x20", label, dpi=600))) == [label.url]


@pytest.mark.parametrize("form", URLS)
@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_modules_are_whole_pixels_of_at_least_0_4_mm_with_a_clear_quiet_zone(name, form):
    layout = load_layout(name)
    symbol = encode_qr(URLS[form])
    placement = raster_placement(layout, symbol.size, layout.dpi)
    module, x, y = int(placement.module), int(placement.x), int(placement.y)
    assert module * MM_PER_INCH / layout.dpi >= MIN_MODULE_MM
    image = render_image(layout, make_label(url=URLS[form]), mode="1").convert("L")
    # The top-left finder pattern starts exactly at the placement: 7 modules of ink.
    assert dark_run(image, x, y) == 7 * module
    assert dark_run(image, x, y + 7 * module - 1) == 7 * module
    side = symbol.size * module
    quiet = QUIET_ZONE * module
    zone = image.crop((x - quiet, y - quiet, x + side + quiet, y + side + quiet))
    zone.paste(255, (quiet, quiet, quiet + side, quiet + side))
    assert zone.getextrema() == (255, 255)


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_vector_modules_are_at_least_0_4_mm(name):
    layout = load_layout(name)
    for url in URLS.values():
        assert vector_placement(layout, encode_qr(url).size).module_mm >= MIN_MODULE_MM


def test_a_qr_code_too_dense_for_the_layout_is_refused_not_printed():
    label = make_label(url=URLS["digital-link"])
    with pytest.raises(QRTooSmall, match=r"small-30x20.*version 5.*203 dpi"):
        render_png("small-30x20", label, dpi=203)
    long_label = make_label(url="https://trace.example.com/s/" + "x" * 300)
    for render in (render_png, render_svg):
        with pytest.raises(QRTooSmall):
            render("medium-50x30", long_label)
    with pytest.raises(QRTooSmall):
        render_zpl("medium-50x30", [long_label])


def test_resolutions_are_checked_and_printer_magnification_is_capped():
    with pytest.raises(ValueError, match="resolution"):
        render_png("small-30x20", make_label(), dpi=10_000)
    layout = load_layout("medium-50x30")
    capped = raster_placement(layout, 21, 600, max_module=10)
    assert capped.module == 10
    box = layout.qr.size_mm / MM_PER_INCH * 600
    assert capped.x - layout.qr.x_mm / MM_PER_INCH * 600 == pytest.approx((box - 210) / 2, abs=1)


def test_the_upper_case_short_form_still_fits_the_small_label_at_203_dpi():
    label = make_label(url=URLS["upper"])
    assert decode(open_png(render_png("small-30x20", label, dpi=203))) == [label.url]


# --- text --------------------------------------------------------------------------------


def test_text_wraps_at_spaces_and_hyphens_and_ends_cut_text_with_an_ellipsis():
    def measure(text):
        return len(text)

    assert fit_lines("Smart Meter X200", 12, 2, measure) == ["Smart Meter", "X200"]
    assert fit_lines(CODE_DISPLAY, 10, 3, measure) == ["7KQ2-MX9R-", "D4TB-0HZP-", "M"]
    lines = fit_lines("A very long product name indeed", 10, 2, measure)
    assert lines[-1].endswith("…") and len(lines) == 2
    assert all(measure(line) <= 10 for line in lines)
    assert fit_lines("智能电表智能电表", 4, 2, measure) == ["智能电表", "智能电表"]


def test_fixed_pitch_wrapping_matches_and_never_overflows():
    assert wrap_fixed_pitch(CODE_DISPLAY, 10, 3) == ["7KQ2-MX9R-", "D4TB-0HZP-", "M"]
    assert wrap_fixed_pitch(CODE_DISPLAY, 15, 2) == ["7KQ2-MX9R-D4TB-", "0HZP-M"]
    assert wrap_fixed_pitch("0123456789ABCDEFG", 10, 1, ellipsis="...") == ["0123456..."]


def test_control_characters_never_reach_a_label():
    assert clean_text("Smart\nMeter\t\x00X200\r\n") == "Smart Meter X200"


# --- SVG ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", URLS)
@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_svg_is_well_formed_and_its_qr_decodes(name, form):
    layout = load_layout(name)
    svg = render_svg(layout, make_label(url=URLS[form], product_name='<Meter> & "Co"'))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == f"{layout.width_mm:g}mm"
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert '<Meter> & "Co"' in " ".join(texts)  # escaped, and maybe on two lines
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) == 1
    assert decode(rasterise_svg(svg, dpi=600)) == [URLS[form]]


# --- PDF ---------------------------------------------------------------------------------

PDF_DPI = 300


def _label_cells(sheet: Sheet, paper: str, count: int, offset=(0.0, 0.0)):
    """Crop boxes in pixels (at PDF_DPI) of the first `count` grid positions."""
    grid = sheet.grid(paper)
    scale = PDF_DPI / MM_PER_INCH
    for index in range(count):
        x, y = grid.label_origin(index, sheet.label)
        x, y = x + offset[0] - 1, y + offset[1] - 1  # a millimetre of the gap around
        width, height = sheet.label.width_mm + 2, sheet.label.height_mm + 2
        yield tuple(round(v * scale) for v in (x, y, x + width, y + height))


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pdf_sheet_over_two_pages_decodes_every_label(paper):
    sheet = load_layout("sheet-a4-small")
    per_page = sheet.grid(paper).per_page
    count = per_page + 12
    expected = [label.url for label in numbered_labels(count)]
    data = render_pdf(sheet, numbered_labels(count), paper=paper)
    pages = rasterise_pdf(data, PDF_DPI)
    assert len(pages) == 2
    grid = sheet.grid(paper)
    for width, height in pdf_page_sizes(data):
        assert width == pytest.approx(grid.width_mm / MM_PER_INCH * 72, abs=0.1)
        assert height == pytest.approx(grid.height_mm / MM_PER_INCH * 72, abs=0.1)
    decoded = []
    for page, on_page in zip(pages, (per_page, 12), strict=True):
        for box in _label_cells(sheet, paper, on_page):
            found = decode(page.crop(box))
            assert len(found) == 1
            decoded.extend(found)
    assert decoded == expected


def test_pdf_offset_calibration_moves_everything():
    sheet = load_layout("sheet-a4-small")
    labels = list(numbered_labels(3))
    plain = rasterise_pdf(render_pdf(sheet, labels), PDF_DPI)[0]
    shifted = rasterise_pdf(render_pdf(sheet, labels, offset_mm=(3.0, -2.0)), PDF_DPI)[0]
    scale = PDF_DPI / MM_PER_INCH
    dx, dy = round(3.0 * scale), round(-2.0 * scale)
    before, after = ink_box(plain), ink_box(shifted)
    assert after[0] - before[0] == pytest.approx(dx, abs=2)
    assert after[1] - before[1] == pytest.approx(dy, abs=2)
    boxes = _label_cells(sheet, "A4", 3, offset=(3.0, -2.0))
    assert [decode(shifted.crop(box)) for box in boxes] == [[label.url] for label in labels]


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_pdf_of_a_label_layout_has_one_label_sized_page_per_label(name):
    layout = load_layout(name)
    labels = [make_label(url=url) for url in URLS.values()]
    data = render_pdf(layout, iter(labels))
    assert (
        pdf_page_sizes(data)
        == [
            pytest.approx((layout.width_mm / MM_PER_INCH * 72, layout.height_mm / MM_PER_INCH * 72))
        ]
        * 3
    )
    assert [decode(page) for page in rasterise_pdf(data, 600)] == [[url] for url in URLS.values()]


def test_pdf_takes_labels_lazily_from_any_iterable():
    produced = 0

    def labels():
        nonlocal produced
        for label in numbered_labels(200):
            produced += 1
            yield label

    data = render_pdf("sheet-a4-small", labels())
    assert produced == 200
    assert len(pdf_page_sizes(data)) == 3


# --- ZPL ---------------------------------------------------------------------------------


def _formats(zpl_text: str) -> list[str]:
    return re.findall(r"\^XA.*?\^XZ", zpl_text, flags=re.S)


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_zpl_has_one_format_per_label_with_utf8_and_the_qr_field_data(name):
    layout = load_layout(name)
    labels = [make_label(url=url) for url in URLS.values()]
    text = render_zpl(layout, labels)
    assert text.count("^XA") == text.count("^XZ") == len(labels)
    formats = _formats(text)
    assert len(formats) == len(labels)
    for label, format_text in zip(labels, formats, strict=True):
        assert "^CI28" in format_text
        qr = re.findall(r"\^FO(\d+),(\d+)\^BQN,2,(\d+)\^FH\^FD(.*?)\^FS", format_text)
        assert len(qr) == 1
        x, y, magnification, data = qr[0]
        assert data == f"MA,{label.url}"
        modules = encode_qr(label.url).size
        placement = raster_placement(layout, modules, layout.zpl.dpi, max_module=10)
        assert (int(x), int(y), int(magnification)) == (
            placement.x,
            placement.y,
            placement.module,
        )
        assert int(magnification) / layout.zpl.dpi * MM_PER_INCH >= MIN_MODULE_MM


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_zpl_text_stays_clear_of_the_qr_code_and_its_quiet_zone(name):
    layout = load_layout(name)
    text = render_zpl(layout, [make_label(url=URLS["digital-link"])])
    x, y, magnification = map(int, re.search(r"\^FO(\d+),(\d+)\^BQN,2,(\d+)", text).groups())
    size = encode_qr(URLS["digital-link"]).size * magnification
    quiet = QUIET_ZONE * magnification
    assert x >= quiet and y >= quiet
    for text_x in map(int, re.findall(r"\^FT(\d+),", text)):
        assert text_x >= x + size + quiet


def test_zpl_escapes_command_characters_in_user_text():
    hostile = make_label(product_name="^XZ~JA_x", serial="S~1^2_3", lot="L^1\n^XZ")
    text = render_zpl("medium-50x30", [hostile, make_label()])
    assert text.count("^XA") == text.count("^XZ") == 2
    assert "~" not in text
    assert "^FD_5EXZ_7EJA_5Fx^FS" in text
    assert "S_7E1_5E2_5F3" in text
    assert "L_5E1 _5EXZ" in text  # the line break became a space
    for data in re.findall(r"\^FD(.*?)\^FS", text):
        assert "^" not in data and "~" not in data and "\n" not in data
    assert escape_field_data("a^b~c_d\x00e") == "a_5Eb_7Ec_5Fd e"


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_zpl_prints_the_whole_code_and_leaves_out_empty_fields(name):
    text = render_zpl(name, [make_label(gtin=None, produced_on=None)])
    field_data = re.findall(r"\^FD(.*?)\^FS", text)
    assert CODE_DISPLAY in "".join(field_data)  # over consecutive lines, nothing cut
    assert "GTIN" not in text and "Date" not in text


def test_zpl_uses_the_configured_cjk_font_for_chinese_text():
    layout = load_layout("medium-50x30")
    text = render_zpl(layout, [make_label(product_name="智能电表")])
    assert re.search(rf"\^A@N,\d+,\d+,{re.escape(layout.zpl.cjk_font)}\^FH\^FD智能电表\^FS", text)


def test_zpl_streams_label_by_label():
    produced = 0

    def labels():
        nonlocal produced
        for label in numbered_labels(10_001):
            produced += 1
            yield label

    stream = iter_zpl("medium-50x30", labels())
    first = next(stream)
    assert produced == 1 and first.count("^XA") == 1
    assert sum(1 for _ in stream) == 10_000


def test_zpl_refuses_qr_data_the_printer_cannot_take():
    with pytest.raises(ValueError, match="printable ASCII"):
        render_zpl("medium-50x30", [make_label(url="https://trace.example.com/s/é")])


# --- Chinese text and missing fonts ---------------------------------------------------------


@pytest.fixture
def clear_font_caches():
    """Font lookups and text bitmaps are cached per process; start and end afresh."""

    def clear():
        for module in (fonts, raster, pdf, zpl):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()

    clear()
    yield
    clear()


@pytest.mark.parametrize("name", LABEL_LAYOUTS)
def test_chinese_product_names_render_in_every_output(name):
    label = make_label(product_name="智能电表 X200 三相", url=URLS["upper"])
    assert decode(open_png(render_png(name, label))) == [label.url]
    assert "智能电表" in render_svg(name, label)
    assert decode(rasterise_pdf(render_pdf(name, [label]), 600)[0]) == [label.url]


def test_chinese_is_drawn_with_real_glyphs():
    assert fonts.font_path("cjk"), "no CJK font: install fonts-wqy-zenhei (make test does as root)"
    layout = load_layout("medium-50x30")
    field = next(field for field in layout.fields if field.name == "product_name")
    scale = layout.dpi / MM_PER_INCH
    box = tuple(
        round(v * scale)
        for v in (field.x_mm, field.y_mm, field.x_mm + field.width_mm, field.y_mm + field.pitch_mm)
    )

    def name_pixels(product_name):
        return render_image(layout, make_label(product_name=product_name)).crop(box).tobytes()

    # Missing-glyph boxes would look the same for any two names of equal length.
    assert name_pixels("智能电表") != name_pixels("电表智能")


def test_labels_render_without_any_font_installed(monkeypatch, clear_font_caches):
    for role in fonts.FONT_CANDIDATES:
        monkeypatch.setitem(fonts.FONT_CANDIDATES, role, ("/nonexistent/font.ttf",))
    label = make_label(product_name="智能电表 Ωmega ½", url=URLS["digital-link"])
    for name in LABEL_LAYOUTS:
        assert decode(open_png(render_png(name, label))) == [label.url]
        assert decode(rasterise_pdf(render_pdf(name, [label]), 600)[0]) == [label.url]
        ET.fromstring(render_svg(name, label))


def test_layout_directory_is_the_repositorys_label_templates():
    assert Path(__file__).resolve().parents[2] / "label_templates" == LAYOUT_DIR
