"""The Kafka engine and the pieces the Kafka-family strategies share, naming none of them.

The engine, one concept per module: cluster assembly (``cluster``), the produce path
(``produce``), replication (``replication``: fetch loops, ISR, high watermark), the
controller (``controller``), the consumers' read path (``reads``), zone and broker faults
(``faults``); independent clusters linked by flows (``cross_cluster``, ``regional``,
``mirror_flow``, ``offset_sync``, ``failover``), and Replicator's flows on that engine
(``replicator``, ``replicator_flow``, ``timestamp_translation``, ``connect``: Kafka
Connect workers, tasks and rebalances). Without timing: broker configs by Kafka
key (``config``), flow configs (``mirror_config``), replica placement (``placement``), one
partition's replicated log (``partition``), the idempotent producer's log
(``idempotence``). Shared by the plug-ins: spec fields, generic checks and generators,
probes, reference tables. See docs/architecture.md.
"""
