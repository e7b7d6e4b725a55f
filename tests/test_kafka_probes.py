"""The Kafka-family coverage probes over hand-built summaries and events: each state is
reached exactly when its fact is present."""

from __future__ import annotations

from geosim.core.events import PartitionChanged, Recorder, Row, RowsTruncated
from geosim.kafka.probes import CrossClusterProbe, KafkaProbe


def failover(**changes) -> dict:
    return {"translated": 0, "reset": 0, "unreplicated_records": 0, **changes}


def test_cross_cluster_states_follow_the_summary():
    probe = CrossClusterProbe()
    assert probe.reached({}) == set()
    assert probe.reached({"mirror": {"failovers": [failover()]}}) == {"failover"}
    summary = {"mirror": {"failovers": [failover(translated=3, reset=2,
                                                 unreplicated_records=7)],
                          "failbacks": [{"diverged_records": 4}]},
               "counters": {"mirror_task_restarts": 1}}
    reached = probe.reached(summary)
    assert {"failover", "failover-translated", "failover-reset", "failover-unreplicated",
            "failback-diverged", "mirror-task-restart"} <= reached
    assert "mirror-task-restart" not in probe.reached(
        {"counters": {"mirror_task_restarts": 0}})


def test_kafka_states_follow_events_and_counters():
    probe = KafkaProbe()
    recorder = Recorder()
    probe.attach(recorder, None)
    assert probe.reached({}) == set()
    recorder.emit(PartitionChanged(1.0, 0, "r1", 1, False, "isr shrink"))
    recorder.emit(PartitionChanged(2.0, 0, None, 0, True, "leader lost"))
    acked = Row(fleet=0, partition=0, seq=0, records=1, bytes_uncompressed=1,
                bytes_compressed=1, send_first=0.0, send_last=0.0, acked_at=0.5)
    recorder.emit(RowsTruncated(3.0, 0, "r1", (acked,), "election"))
    reached = probe.reached({"counters": {"isr_shrinks": 2, "unclean_elections": 1}})
    assert {"isr-shrank-to-one", "under-min-isr", "partition-offline",
            "acked-rows-truncated", "isr-shrank", "unclean-election"} <= reached
    assert "broker-fenced" not in reached
