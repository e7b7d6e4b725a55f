"""Where a sweep's runs execute: here, in local worker processes, or on a Dask cluster.

An executor maps :func:`geosim.sweep.worker.execute` over tasks and yields outcomes in
completion order; the sweep sorts rows by plan order, so the results table does not
depend on the executor or the number of jobs. Closing an executor (also on Ctrl-C)
cancels what has not finished.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from geosim.sweep.worker import execute

Task = dict[str, Any]
Outcome = dict[str, Any]


class ExecutorError(RuntimeError):
    """The executor cannot be used (no scheduler at the address, mismatched workers)."""


class Executor(Protocol):
    """Runs tasks; yields each outcome once, in completion order."""

    description: str

    def map_unordered(self, tasks: Sequence[Task]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


def _failed(task: Task, exc: BaseException) -> Outcome:
    """The outcome of a task whose worker died or could not run it."""
    return {"run_id": task["run_id"], "status": "error", "summary": None,
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0], "traceback": None,
            "worker": None, "wall_seconds": None}


#: How often a local worker checks that the sweep's process is still its parent (s).
PARENT_CHECK_INTERVAL = 0.5

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker(creator: int) -> None:
    """Set up a local worker process: Ctrl-C is the parent's to handle (it cancels the
    pool; workers must not die half-way through pickling a result), and the worker
    exits when the sweep's process dies, whatever killed it.

    A worker blocked on its task pipe would otherwise wait forever after a ``kill -9``
    of the sweep (it holds the pipe's other end itself, so it never reads end of file).
    ``creator`` is the sweep's process id: if the worker is no longer its child when
    this runs (the sweep died first) and it is gone, the worker exits at once. (Under a
    fork server the parent is the server, a live process; it is watched instead.)
    On Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); on
    every system a daemon thread also exits the worker once ``os.getppid()`` changes
    (the orphan was adopted by another process).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if parent != creator and not _alive(creator):
        os._exit(1)  # the sweep died between starting this process and this call
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="geosim-parent-watch",
                     daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watcher thread still works
        pass


def _watch_parent(parent: int) -> None:
    """Exit the process as soon as its parent is no longer ``parent``."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_INTERVAL)
    os._exit(1)


class LocalExecutor:
    """``jobs`` local processes; with ``jobs=1`` the runs execute in this process."""

    def __init__(self, jobs: int = 1, fn: Callable[[Task], Outcome] = execute):
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.jobs = jobs
        self.fn = fn
        self.description = f"local, {jobs} job{'s' if jobs != 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None

    def map_unordered(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if self.jobs == 1:
            for task in tasks:
                yield self.fn(task)
            return
        self._pool = ProcessPoolExecutor(max_workers=min(self.jobs, max(len(tasks), 1)),
                                         initializer=_init_worker,
                                         initargs=(os.getpid(),))
        pending = {self._pool.submit(self.fn, task): task for task in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]["run_id"]):
                task = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # the worker process died (BrokenProcessPool)
                    yield _failed(task, exc)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # runs in progress are abandoned, not awaited
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)


class DaskExecutor:
    """Runs tasks on the Dask distributed cluster whose scheduler is at ``address``.

    The workers must import the same geosim version as this process (checked on
    connection): results are only comparable across executors if the model is the same.
    """

    def __init__(self, address: str, fn: Callable[[Task], Outcome] = execute,
                 timeout_s: float = 10.0):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ExecutorError("--scheduler needs dask[distributed] (pip install "
                                "'geosim[dask]')") from exc
        self.fn = fn
        self.address = address
        try:
            self.client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(f"--scheduler {address}: cannot connect "
                                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                                ) from None
        self._futures: list[Any] = []
        self._check_workers()
        workers = len(self.client.scheduler_info().get("workers", {}))
        self.description = f"dask {address}, {workers} worker{'s' if workers != 1 else ''}"

    def _check_workers(self) -> None:
        import geosim
        from geosim.sweep.worker import identity

        try:
            found = self.client.run(identity)
        except Exception as exc:
            self.client.close()
            raise ExecutorError(f"--scheduler {self.address}: workers cannot import "
                                f"geosim ({type(exc).__name__}: {exc})") from None
        if not found:
            self.client.close()
            raise ExecutorError(f"--scheduler {self.address}: the cluster has no workers")
        for worker, ident in sorted(found.items()):
            if ident["version"] != geosim.__version__:
                self.client.close()
                raise ExecutorError(f"--scheduler {self.address}: worker {worker} runs "
                                    f"geosim {ident['version']}, this process "
                                    f"{geosim.__version__}")
        self.worker_paths = sorted({ident["path"] for ident in found.values()})

    def map_unordered(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        from distributed import as_completed

        token = os.urandom(4).hex()
        self._futures = [self.client.submit(self.fn, task, key=f"geosim-{task['run_id']}-"
                                            f"{token}", pure=False) for task in tasks]
        by_key = {future.key: task for future, task in zip(self._futures, tasks, strict=True)}
        for future in as_completed(self._futures, loop=self.client.loop):
            try:
                yield future.result()
            except Exception as exc:  # the worker was lost, or the task could not run
                yield _failed(by_key[future.key], exc)

    def close(self) -> None:
        if self._futures:
            self.client.cancel(self._futures)
            self._futures = []
        self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    """A :class:`DaskExecutor` if ``scheduler`` is given, else a :class:`LocalExecutor`."""
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(jobs)
