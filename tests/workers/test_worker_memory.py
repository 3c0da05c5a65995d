"""Memory given back after a big poll (issue 9, finding 4: a worker grew from 150 MB to 2.1 GB and
never gave it back). gridcc's workers run ``workers.worker.GridccWorker``, which after every job runs a
full garbage collection and glibc's ``malloc_trim``: a real ``rq worker`` that ran a job holding 200 MiB
(in a reference cycle, in small pieces below an object that stays) returns to its resting size."""

from __future__ import annotations

from pathlib import Path

from rq import Queue, Worker

from workers.queues import DEFAULT_QUEUE, WORKER_CLASS
from workers.runtime import Runtime

from ._memory_jobs import MIB
from ._rq_stack import Stack, finished, wait_until


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_workers_run_the_memory_releasing_class() -> None:
    assert WORKER_CLASS == "workers.worker.GridccWorker"
    from rq.worker import SimpleWorker

    from workers.worker import GridccWorker

    assert issubclass(GridccWorker, SimpleWorker)  # jobs in the worker's own process, as before


def test_a_worker_gives_memory_back_after_a_big_job(rq_runtime: Runtime, rq_stack: Stack) -> None:
    proc = rq_stack.worker("mem")
    # this worker (another one may be registered on a shared Redis), resting after a small job of the
    # same kind (its imports loaded): measured earlier, its start-up was taken for the job's memory
    wait_until(
        lambda: any(w.pid == proc.pid for w in Worker.all(connection=rq_runtime.redis)), 30, "the worker"
    )
    queue = Queue(DEFAULT_QUEUE, connection=rq_runtime.redis)
    warm = queue.enqueue("tests.workers._memory_jobs.hold_in_a_cycle", 1)
    wait_until(lambda: finished(warm), 60, "the warm-up job")
    resting = _rss(proc.pid)
    job = queue.enqueue("tests.workers._memory_jobs.hold_in_a_cycle", 200)
    wait_until(lambda: finished(job), 60, "the job")
    assert job.get_status() == "finished", (rq_stack.logs / "mem.log").read_text()
    peak = job.return_value()
    assert isinstance(peak, int) and peak > resting + 150 * MIB
    wait_until(
        lambda: _rss(proc.pid) < resting + 40 * MIB,
        20,
        f"the worker's memory to be given back (resting {resting // MIB} MiB, peak {peak // MIB} MiB)",
    )
