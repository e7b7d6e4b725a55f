"""Kafka broker pieces without timing: broker and mirror configs by Kafka key, replica
placement, one partition's replicated log, and the Kafka strategies' spec, checks,
generators, probes and reference tables (see docs/architecture.md)."""
