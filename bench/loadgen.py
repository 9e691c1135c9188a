"""Serving an app with gunicorn on loopback and loading it with wrk, for the HTTP budgets.

Both the app under test and the hello-world baseline are served with the same gunicorn
settings in the same run, so the ratio between them holds on a noisy machine.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from budget import ROOT

# The production settings (gunicorn.conf.py), for the app and its baseline alike.
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "--config",
    str(ROOT / "gunicorn.conf.py"),
    "--log-level",
    "warning",
]
LATENCY = re.compile(r"^\s+(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s)\s*$", re.M)
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict | None = None, chdir: Path = ROOT):
    """Serve `app_spec` (module:callable) on a free loopback port; yields the base URL.

    Yields once the app answers: gunicorn opens the port before its workers have built
    the app, and a real app takes seconds to import and build.
    """
    port = free_port()
    command = [*GUNICORN, "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app_spec]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, cwd=ROOT)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        if _answers(port):
            return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start in time")


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


WARM_UP_SECONDS = 3


def wrk(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 8,
    script: str | None = None,
    headers: dict | None = None,
) -> LoadResult:
    """Load `url` with wrk (Debian package `wrk`); a Lua `script` may shape each request.

    A warm-up run comes first and is not counted: every worker has then built its app
    and filled its caches (first requests compile queries and input loaders).
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for this benchmark: apt-get install wrk")
    command = ["wrk", "-t", "2", "-c", str(connections), "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        if WARM_UP_SECONDS:
            _run([*command, "-d", f"{WARM_UP_SECONDS}s", url])
        return _parse(_run([*command, "-d", f"{seconds}s", url]))


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _parse(output: str) -> LoadResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = {float(p): float(v) * UNITS_MS[u] for p, v, u in LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        print(socket_errors.group(0))
    return LoadResult(
        rate,
        latencies.get(50.0, 0.0),
        latencies.get(99.0, 0.0),
        int(errors.group(1)) if errors else 0,
    )


@dataclass(frozen=True)
class Paired:
    """An app and its baseline loaded in alternate rounds, and the round in the middle."""

    rounds: list[tuple[LoadResult, LoadResult]]  # (app, baseline) each round

    @property
    def ratios(self) -> list[float]:
        return [app.requests_per_s / base.requests_per_s for app, base in self.rounds]

    @property
    def median(self) -> tuple[LoadResult, LoadResult]:
        """The round whose ratio is the median one (the lower middle of an even count)."""
        order = sorted(range(len(self.rounds)), key=lambda index: self.ratios[index])
        return self.rounds[order[(len(order) - 1) // 2]]


def paired(load_app, load_baseline, rounds: int) -> Paired:
    """Load the app, then its baseline, `rounds` times over (each a callable that runs one
    load and returns its LoadResult), both servers up the whole time.

    On a shared machine the speed drifts from one minute to the next: a baseline measured
    once, before or after, can land on a fast minute while the app lands on a slow one.
    In alternate rounds each ratio compares loads seconds apart, and the median round
    leaves out a round that a slow moment spoiled, on either side.
    """
    results = []
    for number in range(1, rounds + 1):
        app, base = load_app(), load_baseline()
        results.append((app, base))
        print(
            f"round {number}: {app.requests_per_s:8.0f} vs {base.requests_per_s:8.0f} requests/s"
            f" = {app.requests_per_s / base.requests_per_s:.2f}x;"
            f" p99 {app.p99_ms:.1f} ms vs {base.p99_ms:.1f} ms",
            flush=True,
        )
    return Paired(results)
