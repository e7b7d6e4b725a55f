"""A Confluent Replicator flow: a MirrorMaker-2-like flow run by Connect tasks.

What it shares with :class:`~geosim.kafka.mirror_flow.MirrorFlow` (fetch committed data
from the source leaders, produce the copies to the destination leaders with retries,
at-least-once restarts from the last committed source offsets) it inherits. What differs,
each with its source (docs.confluent.io/platform/current/multi-dc-deployments/replicator/
and .../replicator/configuration_options.html):

* **Tasks.** The flow is a connector whose tasks (``tasks.max``) each own a partition set
  and run on the workers of a Connect cluster (:mod:`geosim.kafka.connect`); a partition
  is copied only while its task runs, and a restarted task resumes from its committed
  source offsets. The flow's traffic leaves from the zone of the worker that runs its
  first live task (a model simplification: one endpoint per flow).
* **Topic set-up.** Before any data flows, Replicator reads the source topic's
  description and configs (a round trip to the source) and creates the destination topic
  (``topic.auto.create``: a round trip to a destination broker and a commit of the
  controller quorum). With ``topic.config.sync`` it then copies the topic's configs
  every ``topic.config.sync.interval.ms`` (the same two round trips, small).
* **Kept names and provenance.** With ``topic.rename.format`` ``${topic}`` the copies go
  into the destination's own topic. With ``provenance.header.enable`` each copy carries a
  header naming its origin cluster, and the flow does not copy a record whose origin is
  its destination (Replicator's loop prevention): in an active-active pair with kept
  names each flow copies only its source's own records.
* **Offsets** are translated by timestamp (:mod:`geosim.kafka.timestamp_translation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geosim.core.events import Row
from geosim.kafka.mirror_config import MirrorConfig
from geosim.kafka.mirror_flow import MirrorFlow
from geosim.kafka.timestamp_translation import TimestampOffsets
from geosim.kafka.wire import ACK_BYTES, CONTROLLER_RECORD_BYTES, FETCH_REQUEST_BYTES

if TYPE_CHECKING:
    from geosim.kafka.cross_cluster import CrossCluster
    from geosim.kafka.regional import RegionalCluster

TOPIC_CONFIG_BYTES = 2048   # a topic's description and config entries (assumption)


class ReplicatorFlow(MirrorFlow):
    """One Replicator connector copying a source topic into a destination topic."""

    def __init__(self, owner: CrossCluster, index: int, source: RegionalCluster,
                 target: RegionalCluster, target_base: int, cfg: MirrorConfig):
        super().__init__(owner, index, source, target, target_base, cfg)
        self.timestamps = TimestampOffsets(self)
        self.offsets = self.timestamps  # type: ignore[assignment]
        self.alive = False                    # no task runs until the topic exists
        self.topic_ready = False
        self._running = [False] * self.n
        self._zones: dict[tuple[int, ...], str] = {}   # running task -> its worker zone
        self.provenance = False
        self.translator_tasks = -1
        self._started: set[tuple[int, ...]] = set()
        self.topic_created_at: float | None = None
        self.config_syncs = 0
        self.skipped_by_provenance = 0
        self.copied_back = 0

    # --- tasks (the Connect cluster calls these) --------------------------------------
    def running(self, i: int) -> bool:
        return self.topic_ready and self._running[i]

    def task_stopped(self, partitions: tuple[int, ...]) -> None:
        """A task stopped (its worker died, or the assignor moved it): what it had in
        flight is lost with it."""
        self._zones.pop(partitions, None)
        for i in partitions:
            self._running[i] = False
        lost = [key for key, origin in self._inflight.items() if origin[0] in partitions]
        for key in lost:
            del self._inflight[key]
        self._refresh()

    def task_started(self, partitions: tuple[int, ...], zone: str) -> None:
        """A task started on a worker in ``zone``: it resumes each partition from the
        connector's last committed source offsets (what it copied since is copied
        again)."""
        self._zones[partitions] = zone
        if partitions in self._started:
            self.task_restarts += 1
        self._started.add(partitions)
        for i in partitions:
            st = self.parts[i]
            st.acked = st.committed
            st.position = st.acked
            st.ahead.clear()
            self._running[i] = True
        self._refresh()

    def translating(self) -> bool:
        """Whether a task that translates offsets runs (``offset.translator.tasks.max``:
        -1 every task, 0 none, else the first that many tasks)."""
        if self.translator_tasks == 0:
            return False
        count = max(min(self.cfg.tasks, self.n), 1)
        allowed = count if self.translator_tasks < 0 else min(self.translator_tasks, count)
        return any(self._running[k] for k in range(min(allowed, self.n)))

    def _refresh(self) -> None:
        """The flow runs while its topic exists and a task runs; its endpoint is the
        zone of the worker of its first running task."""
        if self._zones:
            self.zone = self._zones[min(self._zones)]
        alive = self.topic_ready and bool(self._zones)
        if alive and not self.alive:
            self.alive = True
            if self._revive is not None and not self._revive.triggered:
                self._revive.succeed()
        elif not alive:
            self.alive = False

    def worker_state(self, up: bool) -> None:
        """Zones reach the flow through its Connect cluster's workers, not here."""
        return None

    # --- provenance -------------------------------------------------------------------
    def copies(self, row: Row) -> bool:
        """A copy whose provenance header names the destination cluster is not copied
        back to it (``provenance.header.enable``)."""
        if row.mirror < 0 or self.owner.flows[row.mirror].source is not self.target:
            return True
        if self.provenance:
            self.skipped_by_provenance += 1
            return False
        self.copied_back += row.records  # a loop: the record returns to its origin
        return True

    # --- topic creation and config sync -----------------------------------------------
    def run_topic_setup(self, config_sync_interval: float | None):
        """Describe the source topic, create the destination topic (a controller quorum
        commit in the destination), then let the tasks copy; afterwards, with
        ``topic.config.sync``, copy the topic configs every interval. Retried after
        ``consumer.request.timeout.ms`` while a side is unreachable."""
        env = self.env
        while not self.stopped and not self.topic_ready:
            rtt = self._admin_round()
            if rtt is None:
                yield env.timeout(self.cfg.request_timeout)
                continue
            yield env.timeout(rtt)
            done = env.event()

            def committed(ok: bool, done=done) -> None:
                done.succeed(ok)

            self.target.metadata.commit(self.zone, CONTROLLER_RECORD_BYTES * self.n,
                                        committed)
            ok = yield done
            if not ok:
                yield env.timeout(self.cfg.request_timeout)
                continue
            self.topic_exists()
        while config_sync_interval is not None and not self.stopped:
            yield env.timeout(config_sync_interval)
            if self.alive and not self.stopped:
                rtt = self._admin_round()
                if rtt is not None:
                    yield env.timeout(rtt)
                    self.config_syncs += 1

    def topic_exists(self) -> None:
        """The destination topic exists: the tasks may copy."""
        self.topic_ready = True
        self.topic_created_at = self.env.now
        self._refresh()

    def _admin_round(self) -> float | None:
        """One describe at the source and one admin request at a destination broker:
        their combined round-trip time, or None if either is lost."""
        source = self.source.leader_zone(0) or self.source.zones[0]
        target = self.target.leader_zone(self.base) or self.target.zones[0]
        # the flow's admin requests are a message family of their own
        out = self.net.round_trip(self.zone, source, FETCH_REQUEST_BYTES,
                                  TOPIC_CONFIG_BYTES, "metadata", stream=f"{self.name}.admin")
        if out is None:
            return None
        back = self.net.round_trip(self.zone, target, TOPIC_CONFIG_BYTES, ACK_BYTES,
                                   "metadata", stream=f"{self.name}.admin")
        return None if back is None else out + back


__all__ = ["ReplicatorFlow"]
