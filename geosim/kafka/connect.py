"""A Kafka Connect cluster running source connectors: workers, tasks and rebalances.

Confluent Replicator is a Kafka Connect source connector; MirrorMaker 2 is too, but the
cross-cluster engine models its worker as one process per flow. Here a Connect cluster
is a set of ``workers`` worker processes spread round-robin over the zones of its region;
each connector (one replication flow) runs ``tasks.max`` tasks, capped at the number of
partitions it copies, each task owning the partitions ``i`` with ``i % tasks == k``
(an assumption: Replicator's own partition assignor is not documented beyond "tasks
share the topic partitions"). Tasks are spread round-robin over the workers.

Timing (apache/kafka ``DistributedConfig``; Connect's incremental cooperative
rebalancing, KIP-415):

* A worker that crashes (its zone goes down, or a ``connect-worker-crash`` fault) stops
  its tasks at once: what they had fetched or sent and not committed is lost with them.
* The group notices after ``session.timeout.ms`` (10 s). The departed worker's tasks stay
  unassigned for up to ``scheduled.rebalance.max.delay.ms`` (300 s) in case it returns;
  then they are assigned to the remaining live workers.
* A worker that returns (restarted, or its zone is back) rejoins: the tasks held for it
  are assigned to it again; if they were already moved, the assignor moves tasks from the
  most loaded workers to it, each move stopping the task where it ran.
* Every assignment takes effect one ``heartbeat.interval.ms`` (3 s) later (the members
  learn of the rebalance at their next heartbeat; an assumption for the join and sync
  round trips, which are intra-region). A task started on a worker resumes from its
  connector's last committed source offsets (``offset.flush.interval.ms``), so what it
  had copied since is written again: at least once.

The cluster emits nothing itself; its flows count task restarts, and
:class:`ConnectCluster` counts rebalances and the tasks they moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import simpy


@dataclass(frozen=True)
class ConnectConfig:
    """Resolved Connect worker configs (seconds). No defaults here: the scenario's
    ``strategy.connect`` block and its key table hold them, once."""

    workers: int
    session_timeout: float                # session.timeout.ms
    heartbeat_interval: float             # heartbeat.interval.ms
    rebalance_delay: float                # scheduled.rebalance.max.delay.ms


class TaskHost(Protocol):
    """What a connector offers its tasks' lifecycle (a replication flow)."""

    name: str

    def task_stopped(self, partitions: tuple[int, ...]) -> None: ...

    def task_started(self, partitions: tuple[int, ...], zone: str) -> None: ...


@dataclass
class Worker:
    index: int
    zone: str
    alive: bool = True
    crashed: bool = False     # by a connect-worker-crash fault (the zone may be up)
    zone_down: bool = False


@dataclass
class Task:
    connector: TaskHost
    index: int
    partitions: tuple[int, ...]
    worker: int | None = None        # where it runs (None: unassigned)
    home: int = 0                    # the worker it was last assigned to
    running: bool = False
    epoch: int = 0                   # bumped at every (re)assignment


@dataclass
class ConnectCluster:
    """The Connect workers of one region and the tasks of the connectors they run."""

    env: simpy.Environment
    region: str
    zones: list[str]
    cfg: ConnectConfig
    workers: list[Worker] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    rebalances: int = 0
    tasks_moved: int = 0

    def __post_init__(self) -> None:
        self.workers = [Worker(k, self.zones[k % len(self.zones)])
                        for k in range(self.cfg.workers)]

    def add_connector(self, connector: TaskHost, partitions: int, tasks_max: int) -> None:
        """``connector``'s tasks (``tasks.max``, at most one per partition), spread over
        the workers after the cluster's earlier tasks."""
        count = max(min(tasks_max, partitions), 1)
        for k in range(count):
            owned = tuple(i for i in range(partitions) if i % count == k)
            home = len(self.tasks) % len(self.workers)
            self.tasks.append(Task(connector, k, owned, home=home))

    def start(self) -> None:
        """Every task starts on its worker (no rebalance delay at start-up)."""
        for task in self.tasks:
            self._assign(task, task.home, delay=0.0)

    # --- worker lifecycle -------------------------------------------------------------
    def zone_state(self, zone: str, up: bool) -> None:
        """The workers of ``zone`` die with it, and come back with it."""
        for worker in self.workers:
            if worker.zone == zone:
                worker.zone_down = not up
                self._set_alive(worker)

    def crash_workers(self, zone: str, count: int, up: bool) -> None:
        """``count`` workers of ``zone`` crash (``up=False``) or are restarted."""
        picked = [w for w in self.workers if w.zone == zone and w.crashed != (not up)]
        for worker in picked[:count]:
            worker.crashed = not up
            self._set_alive(worker)

    def _set_alive(self, worker: Worker) -> None:
        alive = not worker.crashed and not worker.zone_down
        if alive == worker.alive:
            return
        worker.alive = alive
        if not alive:
            for task in self.tasks:
                if task.worker == worker.index:
                    self._stop(task)
                    task.worker = None
            self.env.process(self._departed(worker))
        else:
            self.env.process(self._rejoined(worker))

    def _departed(self, worker: Worker):
        """After ``session.timeout.ms`` the group learns that ``worker`` left; its tasks
        wait ``scheduled.rebalance.max.delay.ms`` for it, then go to the live workers."""
        yield self.env.timeout(self.cfg.session_timeout)
        if worker.alive:
            return
        self.rebalances += 1
        yield self.env.timeout(self.cfg.rebalance_delay)
        if worker.alive:
            return  # it came back: it got its tasks again
        live = [w for w in self.workers if w.alive]
        if not live:
            return  # nobody to run them: assigned when a worker returns
        self.rebalances += 1
        orphans = [t for t in self.tasks if t.worker is None and t.home == worker.index]
        for task in orphans:
            target = min(live, key=lambda w: (self._load(w), w.index))
            self.tasks_moved += 1
            self._assign(task, target.index, delay=self.cfg.heartbeat_interval)

    def _rejoined(self, worker: Worker):
        """``worker`` joins again: its held tasks come back to it, and the assignor
        evens the load, moving tasks from the most loaded workers to it."""
        yield self.env.timeout(self.cfg.heartbeat_interval)
        if not worker.alive:
            return
        self.rebalances += 1
        for task in self.tasks:
            if task.worker is None and (task.home == worker.index or not any(
                    w.alive for w in self.workers if w.index == task.home)):
                self._assign(task, worker.index, delay=self.cfg.heartbeat_interval)
        live = [w for w in self.workers if w.alive]
        share = len(self.tasks) // len(live)
        while self._load(worker) < share:
            busiest = max(live, key=lambda w: (self._load(w), -w.index))
            if self._load(busiest) <= share:
                break
            task = next(t for t in reversed(self.tasks) if t.worker == busiest.index)
            self._stop(task)
            self.tasks_moved += 1
            self._assign(task, worker.index, delay=self.cfg.heartbeat_interval)

    def _load(self, worker: Worker) -> int:
        return sum(1 for t in self.tasks if t.worker == worker.index)

    # --- tasks ------------------------------------------------------------------------
    def _assign(self, task: Task, worker: int, *, delay: float) -> None:
        task.worker = worker
        task.home = worker
        task.epoch += 1
        if delay <= 0:
            self._start(task, task.epoch)
        else:
            self.env.process(self._start_later(task, task.epoch, delay))

    def _start_later(self, task: Task, epoch: int, delay: float):
        yield self.env.timeout(delay)
        self._start(task, epoch)

    def _start(self, task: Task, epoch: int) -> None:
        if task.epoch != epoch or task.worker is None or task.running:
            return
        if not self.workers[task.worker].alive:
            return
        task.running = True
        task.connector.task_started(task.partitions, self.workers[task.worker].zone)

    def _stop(self, task: Task) -> None:
        if task.running:
            task.running = False
            task.connector.task_stopped(task.partitions)

    def counters(self) -> dict[str, int]:
        return {"connect_rebalances": self.rebalances, "connect_tasks_moved": self.tasks_moved}


__all__ = ["ConnectCluster", "ConnectConfig", "Task", "TaskHost", "Worker"]
