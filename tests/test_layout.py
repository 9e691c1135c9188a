"""The project's `trace` package must win over the standard library's module of that name."""

from pathlib import Path

import trace

REPO = Path(__file__).resolve().parent.parent


def test_trace_is_this_repositorys_package():
    assert Path(trace.__file__).resolve().parent == REPO / "trace"
