"""Fleets' partition choice: each fleet covers a target's partitions evenly, and the
fleets are out of phase (docs/architecture.md, "Fleets are out of phase"): Kafka's
built-in partitioner picks each new sticky partition at random, so independent producers
do not write the same partition at the same instant."""

from __future__ import annotations

from geosim.clients.producer import ProducerFleet
from geosim.runner import build
from geosim.scenario.loader import load_scenario

SMALL = ["faults=[]", "simulation.duration=8s", "simulation.warmup=2s", "simulation.drain=1s"]


def _fleets(n_fleets: int, partitions: list[int]) -> list[ProducerFleet]:
    """``n_fleets`` fleets numbered as a workload numbers them (0, 1, ...), shaped like
    the stretch scenario's, all routed to one target leading ``partitions``."""
    scenario = load_scenario("scenarios/stretch-3-regions.yaml", SMALL)
    ctx, world, _strategy = build(scenario, 0)
    shape = world.workload.make_fleets(ctx)[0]
    fleets = [ProducerFleet(ctx, i, shape.zone, shape.region, producers=shape.producers,
                            records_per_s=shape.records_per_s,
                            message_size=shape.message_size,
                            compression_ratio=shape.compression_ratio,
                            settings=shape.settings, start=shape.start_time,
                            stop=shape.stop_time)
              for i in range(n_fleets)]
    for fleet in fleets:
        fleet.route({0: partitions})
    return fleets


def _partitions_cut(fleet, ticks: int) -> list[int]:
    return [row.partition for k in range(1, ticks + 1) for row in fleet.cut(0, 0.01 * k, 0.0)]


def test_each_fleet_writes_every_partition_once_per_round():
    partitions = list(range(100, 124))
    for fleet in _fleets(3, partitions):
        cut = _partitions_cut(fleet, 2 * len(partitions))
        assert sorted(cut[:24]) == partitions and sorted(cut[24:]) == partitions
        # round-robin: consecutive rows go to consecutive partitions of the rotation
        assert all((b - a) % 24 == 1 for a, b in zip(cut, cut[1:], strict=False))


def test_fleets_cutting_at_the_same_instants_write_different_partitions():
    """With the old common start, every fleet's k-th row went to the same partition.
    Seed 000's shape (6 fleets, 144 partitions per leader zone) and a small one."""
    for n_fleets, n_partitions in ((6, 144), (3, 24), (12, 36)):
        partitions = list(range(n_partitions))
        fleets = _fleets(n_fleets, partitions)
        starts = [_partitions_cut(fleet, 1)[0] for fleet in fleets]
        assert starts[0] == 0
        assert len(set(starts)) == n_fleets, (n_fleets, n_partitions, starts)
        gaps = sorted(starts)
        smallest = min([b - a for a, b in zip(gaps, gaps[1:], strict=False)]
                       + [n_partitions - gaps[-1] + gaps[0]])
        # the golden-ratio sequence keeps n points at least about 0.38 / n apart
        assert smallest >= int(0.38 * n_partitions / n_fleets) - 1, (starts, smallest)
