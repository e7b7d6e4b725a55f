"""Coverage probes of the replicator strategy (states a property search should reach)."""

from __future__ import annotations

from geosim.core.probes import Probe


class ReplicatorProbe(Probe):
    """From the summary's counters: provenance headers stopped a copy going back
    (``provenance-skip``), the Connect group rebalanced (``connect-rebalance``) and moved
    a task to another worker (``connect-task-moved``), a consumer offset was translated
    by timestamp (``timestamp-translation``)."""

    COUNTERS = {"replicator_provenance_skips": "provenance-skip",
                "connect_rebalances": "connect-rebalance",
                "connect_tasks_moved": "connect-task-moved",
                "replicator_offset_translations": "timestamp-translation"}

    def reached(self, summary: dict) -> set[str]:
        counters = summary.get("counters") or {}
        return {state for counter, state in self.COUNTERS.items() if counters.get(counter)}


__all__ = ["ReplicatorProbe"]
