"""The diskless read path's per-zone cache of objects (docs/architecture.md, "Object
requests and the read path"): a zone fetches an object once for all its brokers and
consumer groups, and may hold only the partitions whose byte ranges it read."""

from __future__ import annotations

from collections import OrderedDict


class ZoneCache:
    """Objects readable in one zone: fetched once, shared by the zone's brokers. A zone
    may hold only some partitions of an object (the byte ranges it read)."""

    def __init__(self, zone: str, capacity: int):
        self.zone = zone
        self.capacity = capacity
        self.used = 0
        self.ready: OrderedDict[int, int] = OrderedDict()   # object id -> size
        self.held: dict[int, frozenset[int]] = {}  # object id -> its partitions held, if not all
        self.fetching: set[int] = set()

    def add(self, object_id: int, size: int, partitions: frozenset[int] | None = None) -> None:
        """``size`` more bytes of the object, holding ``partitions`` (None: all of it)."""
        if object_id in self.ready:
            self.ready[object_id] += size
            held = self.held.get(object_id)
            if held is None or partitions is None:
                self.held.pop(object_id, None)
            else:
                self.held[object_id] = held | partitions
        else:
            self.ready[object_id] = size
            if partitions is not None:
                self.held[object_id] = partitions
        self.used += size
        while self.used > self.capacity and self.ready:
            evicted_id, evicted = self.ready.popitem(last=False)
            self.held.pop(evicted_id, None)
            self.used -= evicted

    def holds(self, object_id: int, partitions: frozenset[int] | None = None) -> bool:
        """Whether ``partitions`` (None: the whole object) of the object are here."""
        if object_id not in self.ready:
            return False
        held = self.held.get(object_id)
        return held is None or (partitions is not None and partitions <= held)

    def has(self, object_id: int, partition: int) -> bool:
        """Whether the zone can read ``partition``'s rows of the object (the read path's
        per-row check)."""
        if object_id not in self.ready:
            return False
        held = self.held.get(object_id)
        return held is None or partition in held

    def partitions_held(self, object_id: int) -> frozenset[int] | None:
        """The partitions of the object held here: None when all of it, empty when none."""
        if object_id not in self.ready:
            return frozenset()
        return self.held.get(object_id)

    def clear(self) -> None:
        self.ready.clear()
        self.held.clear()
        self.used = 0
