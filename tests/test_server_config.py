"""gunicorn.conf.py, the server's settings: what its hooks do to a worker."""

import json
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"
ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
needs_cpus = pytest.mark.skipif(
    len(ALLOWED) < 2, reason="pinning is only seen with two CPUs or more to choose from"
)

# A worker as gunicorn starts one: the arbiter's pre_fork hook, then in the new process
# post_worker_init, then the threads that serve requests.
WORKER = """
import json, os, runpy, threading, types
config = runpy.run_path("gunicorn.conf.py")
worker = types.SimpleNamespace(age=1)
others = [types.SimpleNamespace(trace_cpu=cpu) for cpu in json.loads({others!r})]
config["pre_fork"](types.SimpleNamespace(WORKERS=dict(enumerate(others))), worker)
config["post_worker_init"](worker)
seen = {{}}
thread = threading.Thread(target=lambda: seen.update(cpus=sorted(os.sched_getaffinity(0))))
thread.start(); thread.join()
print(json.dumps(seen["cpus"]))
"""


def cpus_of_a_new_worker(pin: str | None, others: list[int] = ()) -> list[int]:
    """The CPUs a new worker's request threads may run on, beside workers on `others`."""
    env = {k: v for k, v in os.environ.items() if k != "TRACE_PIN_WORKERS"}
    if pin is not None:
        env["TRACE_PIN_WORKERS"] = pin
    run = subprocess.run(
        [sys.executable, "-c", WORKER.format(others=json.dumps(list(others)))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


@needs_cpus
def test_workers_run_on_every_allowed_cpu_unless_pinned():
    assert cpus_of_a_new_worker(pin=None) == ALLOWED
    assert cpus_of_a_new_worker(pin="0") == ALLOWED


@needs_cpus
def test_a_pinned_worker_and_its_threads_take_the_least_used_cpu():
    assert cpus_of_a_new_worker(pin="1") == [ALLOWED[0]]
    assert cpus_of_a_new_worker(pin="1", others=[ALLOWED[0]]) == [ALLOWED[1]]


@needs_cpus
def test_a_replacement_worker_takes_the_cpu_its_predecessor_left(monkeypatch):
    # Workers on the first two CPUs, the one on the first died: its replacement goes there,
    # whatever its age, instead of doubling up with a live worker.
    pre_fork = runpy.run_path(str(CONFIG))["pre_fork"]
    live = {2: types.SimpleNamespace(age=2, trace_cpu=ALLOWED[1])}
    replacement = types.SimpleNamespace(age=3)
    monkeypatch.setenv("TRACE_PIN_WORKERS", "1")
    pre_fork(types.SimpleNamespace(WORKERS=live), replacement)
    assert replacement.trace_cpu == ALLOWED[0]
