"""Kafka broker pieces without timing: broker configs by Kafka key, the flow configs of
the cross-cluster engine, replica placement, one partition's replicated log, and what the
Kafka strategies share (spec, generic checks and generators, probes, reference tables),
naming none of them (see docs/architecture.md)."""
