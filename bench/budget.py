"""The one output convention of bench/: a BUDGET line per budget."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

# Benchmarks run as `python bench/x.py` from the root; make `trace` this repository's.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))


def budget(name: str, value: float, unit: str, target: str, baseline: float | None = None) -> str:
    base = "-" if baseline is None else f"{baseline:.6g}"
    line = f"BUDGET {name} value={value:.6g} unit={unit} baseline={base} target={target}"
    print(line, flush=True)
    return line


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
