"""gunicorn.conf.py, the server's settings: what its worker hook does to a worker."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A worker as gunicorn starts it: the hook runs, then the threads that serve requests.
WORKER = """
import json, os, runpy, threading, types
config = runpy.run_path("gunicorn.conf.py")
config["post_worker_init"](types.SimpleNamespace(age={age}))
seen = {{}}
thread = threading.Thread(target=lambda: seen.update(cpus=sorted(os.sched_getaffinity(0))))
thread.start(); thread.join()
print(json.dumps(seen["cpus"]))
"""


def cpus_of_a_worker(age: int, pin: str | None) -> list[int]:
    env = {k: v for k, v in os.environ.items() if k != "TRACE_PIN_WORKERS"}
    if pin is not None:
        env["TRACE_PIN_WORKERS"] = pin
    run = subprocess.run(
        [sys.executable, "-c", WORKER.format(age=age)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only: CPU affinity")
def test_workers_run_on_every_allowed_cpu_unless_pinned():
    allowed = sorted(os.sched_getaffinity(0))
    assert cpus_of_a_worker(age=1, pin=None) == allowed
    assert cpus_of_a_worker(age=1, pin="0") == allowed


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only: CPU affinity")
def test_pinned_workers_take_the_allowed_cpus_in_turn_threads_included():
    allowed = sorted(os.sched_getaffinity(0))
    for age in range(1, 2 * len(allowed) + 1):
        assert cpus_of_a_worker(age=age, pin="1") == [allowed[age % len(allowed)]]
