"""Label rendering throughput (DESIGN.md §8).

- labels_png: PNG labels per second with the layout's full content, against a naive
  `qrcode.make(url).save(buf)` loop over the same URLs in the same run (at least 5x).
  The two are timed in alternating rounds so that machine noise hits both alike.
- labels_zpl: ZPL labels per second for one batch file (at least 20,000/s).
- labels_pdf_10k: seconds for a 10,000-label A4 sheet PDF (reported; peak memory too).
"""

from __future__ import annotations

import argparse
import io
import secrets
import time
from datetime import date

from budget import budget, peak_rss_mb

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_URL = "https://trace.example.com"


def make_labels(count: int, url_form: str = "short") -> list:
    """Labels like a real batch: one product and lot, random 17-character codes."""
    from trace.labels import LabelData

    labels = []
    for number in range(count):
        code = "".join(secrets.choice(CROCKFORD) for _ in range(17))
        serial = f"B2026A-{number:06d}"
        urls = {
            "short": f"{BASE_URL}/s/{code}",
            "upper": f"{BASE_URL}/S/{code}".upper(),
            "digital-link": f"{BASE_URL}/01/09506000134352/10/B2026A/21/{serial}",
        }
        labels.append(
            LabelData(
                url=urls[url_form],
                product_name="Smart Meter X200 智能电表",
                serial=serial,
                lot="B2026A",
                produced_on=date(2026, 1, 15),
                code_display="-".join(code[i : i + 4] for i in range(0, 17, 4)),
                gtin="09506000134352",
            )
        )
    return labels


def naive_png(labels: list) -> float:
    import qrcode

    started = time.perf_counter()
    for label in labels:
        qrcode.make(label.url).save(io.BytesIO())
    return time.perf_counter() - started


def ours_png(labels: list, layout) -> float:
    from trace.labels import render_png

    started = time.perf_counter()
    for label in labels:
        render_png(layout, label)
    return time.perf_counter() - started


def bench_png(count: int, rounds: int, layout_name: str, url_form: str) -> None:
    from trace.labels import load_layout, render_png

    layout = load_layout(layout_name)
    labels = make_labels(count, url_form)
    render_png(layout, labels[0])  # fonts and the blank label are prepared once
    per_round = max(1, count // rounds)
    naive = ours = 0.0
    for start in range(0, count, per_round):
        chunk = labels[start : start + per_round]
        naive += naive_png(chunk)
        ours += ours_png(chunk, layout)
    naive_rate, our_rate = count / naive, count / ours
    print(f"# png {layout_name} {url_form}: {our_rate:.0f}/s vs naive {naive_rate:.0f}/s")
    print(f"#   = {our_rate / naive_rate:.1f}x")
    budget("labels_png", our_rate, "labels/s", ">=5x baseline", baseline=naive_rate)


def bench_zpl(count: int, layout_name: str) -> None:
    from trace.labels import render_zpl

    labels = make_labels(count)
    render_zpl(layout_name, labels[:1])
    started = time.perf_counter()
    zpl = render_zpl(layout_name, labels)
    elapsed = time.perf_counter() - started
    print(f"# zpl {layout_name}: {count} labels, {len(zpl) / 1e6:.1f} MB in {elapsed:.2f} s")
    budget("labels_zpl", count / elapsed, "labels/s", ">=20000")


def bench_pdf(count: int, paper: str) -> None:
    from trace.labels import load_layout, write_pdf

    sheet = load_layout("sheet-a4-small")
    write_pdf(io.BytesIO(), sheet, make_labels(10), paper=paper)  # fonts load once
    labels = make_labels(count)
    rss_before = peak_rss_mb()
    out = io.BytesIO()
    started = time.perf_counter()
    # A generator, as from a database cursor: the renderer never sees a list.
    write_pdf(out, sheet, (label for label in labels), paper=paper)
    elapsed = time.perf_counter() - started
    size = out.getbuffer().nbytes / 1e6
    print(f"# pdf {paper}: {count} labels, {size:.1f} MB in {elapsed:.2f} s")
    print(f"#   peak RSS {peak_rss_mb():.0f} MB, {rss_before:.0f} MB before rendering")
    budget(f"labels_pdf_{count // 1000}k", elapsed, "s", "report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=int, default=2000, help="PNG labels (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating PNG rounds")
    parser.add_argument("--layout", default="medium-50x30", help="PNG and ZPL layout")
    parser.add_argument("--url", choices=("short", "upper", "digital-link"), default="short")
    parser.add_argument("--zpl", type=int, default=50000, help="ZPL labels (default 50000)")
    parser.add_argument("--pdf", type=int, default=10000, help="PDF labels (default 10000)")
    parser.add_argument("--paper", default="A4", help="PDF paper: A4 or Letter")
    args = parser.parse_args()
    # PDF first, so that its peak memory is not hidden by the other runs' label lists.
    bench_pdf(args.pdf, args.paper)
    bench_png(args.png, args.rounds, args.layout, args.url)
    bench_zpl(args.zpl, args.layout)


if __name__ == "__main__":
    main()
