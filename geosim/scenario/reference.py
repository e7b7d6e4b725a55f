"""Generate the scenario reference (``docs/scenario-reference.md``) from the schema.

Run ``python -m geosim.scenario.reference > docs/scenario-reference.md``. Every field of
:class:`geosim.scenario.schema.Scenario` is listed with its path, type, unit, default,
description and the source of its default, read from pydantic's JSON schema (fields
carry ``unit`` and ``source`` in ``json_schema_extra``); every fault kind, distribution
kind and strategy gets its own table; the Kafka client keys honoured come from
:mod:`geosim.scenario.omb`. A test regenerates the file and compares, so it cannot drift.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from geosim.core import units
from geosim.scenario import object_services, plugins
from geosim.scenario.kafka_keys import KafkaKey
from geosim.scenario.omb import CONSUMER_KEYS, PRODUCER_KEYS, describe_default
from geosim.scenario.schema import Scenario

__all__ = ["main", "render_reference"]

# Fields the schema leaves undescribed (OMB's own names, fault targets). Kept here rather
# than in the schema so OMB's field names stay exactly OMB's; the schema's description
# wins whenever it has one.
_FALLBACK = {
    "Scenario": {
        "topology": "Regions, zones and the links between them.",
        "object_store": "The object storage the strategy writes to.",
        "metadata": "The consensus metadata store (Spanner, etcd...).",
        "workload": "OMB workload, Kafka client settings and client placement.",
        "strategy": "The replication strategy and its parameters.",
        "simulation": "Run length, warm-up, drain, seed.",
    },
    "OmbWorkload": {
        "name": "Label only.",
        "topics": "Number of topics.",
        "partitionsPerTopic": "Partitions of each topic.",
        "keyDistributor": "How records get keys: `NO_KEY` (none; the client's partitioner "
                          "spreads them), `KEY_ROUND_ROBIN` (cycles through a fixed key "
                          "pool), `RANDOM_NANO` (a random key per record).",
        "messageSize": "Payload bytes of each record.",
        "useRandomizedPayloads": "Payloads made of random bytes followed by zeros "
                                 "(controls compressibility).",
        "randomBytesRatio": "Fraction of a randomized payload that is random; the rest is "
                            "zeros.",
        "randomizedPayloadPoolSize": "Number of distinct randomized payloads OMB prepares.",
        "payloadFile": "Fixed payload file used when payloads are not randomized "
                       "(recorded; geosim models sizes, not content).",
        "subscriptionsPerTopic": "Consumer groups per topic (read fan-out).",
        "consumerPerSubscription": "Consumers in each group.",
        "producersPerTopic": "Producers attached to each topic.",
        "producerRate": "Aggregate publish rate, messages/s over all producers. 0 is "
                        "OMB's search for the maximum sustainable rate (`workload.max_rate`).",
        "consumerBacklogSizeGB": "OMB: if > 0, consumers pause until this backlog (GB) "
                                 "has built up, then drain it.",
        "backlogDrainRatio": "OMB: fraction of the backlog to drain before the backlog "
                             "phase counts as done.",
        "testDurationMinutes": "OMB's measurement phase; geosim's run length is "
                               "`simulation.duration`.",
        "warmupDurationMinutes": "OMB's warm-up phase; geosim's is `simulation.warmup`.",
    },
    "OmbDriver": {
        "name": "Label only.",
        "driverClass": "OMB's Java driver class (recorded only).",
        "replicationFactor": "Topic replication factor requested by the driver.",
        "reset": "Redpanda fork: delete topics before the run (recorded only).",
        "topicConfig": "Topic configs as a Java properties block "
                       "(`min.insync.replicas=2`).",
        "commonConfig": "Client configs shared by producers and consumers (properties "
                        "block).",
        "producerConfig": "Producer configs (properties block); see Kafka client configs "
                          "below.",
        "consumerConfig": "Consumer configs (properties block); see Kafka client configs "
                          "below.",
    },
    "*": {
        "name": "Strategy name.",
        "kind": "Fault kind.",
        "region": "Region id (`topology.regions`).",
        "zone": "Zone id `<region>-<suffix>`.",
        "between": "Two region ids, or two zone ids.",
        "clients": "Which clients of the zone crash.",
        "dist": "Distribution kind.",
        "description": "Free text.",
    },
}

_UNIT_NAMES = {"duration (s)": "s", "size (bytes)": "bytes", "rate (bytes/s)": "bytes/s"}

# Union groups that get a section of their own, keyed by their discriminator:
# (what one member is called, section title, path prefix of its fields).
_GROUPS = {"dist": ("distribution", "Distributions", ""),
           "kind": ("fault", "Faults", "faults[]."),
           "name": ("strategy", "Strategies", "strategy.")}


def _cell(text: Any) -> str:
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _ref_name(node: dict) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


class _Renderer:
    def __init__(self) -> None:
        self.schema = Scenario.model_json_schema()
        self.defs: dict[str, dict] = self.schema.get("$defs", {})
        self.lines: list[str] = []

    # --- schema reading -------------------------------------------------------------------

    def _union_refs(self, node: dict) -> tuple[list[str], str | None]:
        """Model names of a (possibly nullable) union of models and its discriminator."""
        for key in ("oneOf", "anyOf"):
            if key in node:
                names: list[str] = []
                disc = (node.get("discriminator") or {}).get("propertyName")
                for option in node[key]:
                    ref = _ref_name(option)
                    if ref:
                        names.append(ref)
                    else:
                        inner, inner_disc = self._union_refs(option)
                        names.extend(inner)
                        disc = disc or inner_disc
                return names, disc
        return [], None

    def _type(self, node: dict) -> str:
        if "const" in node:
            return f"`{node['const']}`"
        if "enum" in node:
            return " | ".join(f"`{v}`" for v in node["enum"])
        name = _ref_name(node)
        if name:
            return f"mapping ({name})"
        names, disc = self._union_refs(node)
        if disc in _GROUPS:
            noun, title, _ = _GROUPS[disc]
            return f"{noun} (see {title})"
        for key in ("anyOf", "oneOf"):
            if key in node:
                parts = [self._type(option) for option in node[key]]
                return " or ".join(dict.fromkeys(parts))
        kind = node.get("type") or "any"
        if kind == "array":
            if "prefixItems" in node:
                items = [self._type(item) for item in node["prefixItems"]]
                return "pair of " + items[0] if len(set(items)) == 1 else ", ".join(items)
            return "list of " + self._type(node.get("items", {}))
        if kind == "object":
            value = node.get("additionalProperties")
            if isinstance(value, dict):
                return "mapping of string to " + self._type(value)
            return "mapping"
        return {"number": "number", "integer": "integer", "string": "string",
                "boolean": "boolean", "null": "null"}.get(kind, kind)

    def _unit(self, node: dict) -> str:
        unit = node.get("unit")
        if unit is None:
            for key in ("anyOf", "oneOf"):
                for option in node.get(key, []):
                    if option.get("unit"):
                        unit = option["unit"]
                        break
        if unit is None and node.get("type") == "array":
            unit = node.get("items", {}).get("unit")
        return _UNIT_NAMES.get(unit, unit) if unit else ""

    @staticmethod
    def _default(node: dict, required: bool, unit: str) -> str:
        if "default" not in node:
            return "**required**" if required else ""
        value = node["default"]
        if _ref_name(node) and isinstance(value, dict):
            return "its fields' defaults"
        if isinstance(value, bool):
            return f"`{'true' if value else 'false'}`"
        if value is None:
            return "`null`"
        if isinstance(value, int | float) and unit in ("s", "bytes", "bytes/s"):
            human = {"s": units.format_duration, "bytes": units.format_bytes,
                     "bytes/s": lambda v: units.format_bytes(v) + "/s"}[unit](value)
            return f"`{value}` ({human})"
        if isinstance(value, str):
            return f"`{value}`" if value else '`""`'
        return f"`{json.dumps(value, separators=(', ', ': '))}`"

    def _description(self, model: str, field: str, node: dict) -> str:
        text = node.get("description") or _FALLBACK.get(model, {}).get(field) \
            or _FALLBACK["*"].get(field, "")
        constraints = []
        for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                        ("exclusiveMaximum", "<")):
            if key in node:
                constraints.append(f"{op} {node[key]}")
        if "minItems" in node and "prefixItems" not in node:
            constraints.append(f"at least {node['minItems']} item(s)")
        if "pattern" in node:
            constraints.append(f"matches `{node['pattern']}`")
        if constraints:
            text = (text + " " if text else "") + f"({', '.join(constraints)})"
        return text

    # --- output ---------------------------------------------------------------------------

    def table(self, model: str, prefix: str, groups: dict[str, list[str]],
              nested: list[tuple[str, str]]) -> None:
        spec = self.defs[model] if model != "Scenario" else self.schema
        required = set(spec.get("required", []))
        self.lines += ["| field | type | unit | default | description | source of default |",
                       "|---|---|---|---|---|---|"]
        for field, node in spec.get("properties", {}).items():
            path = f"{prefix}{field}"
            unit = self._unit(node)
            row = [f"`{path}`", self._type(node), unit,
                   self._default(node, field in required, unit),
                   self._description(model, field, node), node.get("source", "")]
            self.lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
            # Where the field leads to further fields, queue their table.
            target = node if node.get("type") != "array" else node.get("items", {})
            suffix = "[]" if node.get("type") == "array" else ""
            if node.get("type") == "object" and isinstance(node.get("additionalProperties"),
                                                           dict):
                target, suffix = node["additionalProperties"], ".<id>"
            names, disc = self._union_refs(target)
            ref = _ref_name(target)
            if disc in _GROUPS:
                groups.setdefault(disc, [])
                groups[disc] += [n for n in names if n not in groups[disc]]
            elif ref:
                nested.append((ref, f"{path}{suffix}"))
            elif len(names) == 1:
                nested.append((names[0], f"{path}{suffix}"))

    def section(self, model: str, path: str, level: int, groups: dict[str, list[str]]) -> None:
        nested: list[tuple[str, str]] = []
        title = f"`{path}`" if path else "Top level"
        self.lines += ["", f"{'#' * level} {title}", ""]
        doc = (self.defs.get(model) or {}).get("description")
        if doc and model != "Scenario":
            self.lines += [" ".join(doc.split()), ""]
        self.table(model, f"{path}." if path else "", groups, nested)
        for child, child_path in nested:
            self.section(child, child_path, min(level + 1, 4), groups)

    def group(self, disc: str, names: list[str], where: str) -> None:
        _, title, prefix = _GROUPS[disc]
        self.lines += ["", f"## {title}", "",
                       f"Chosen by `{disc}`. Used at: {where}.", ""]
        for name in names:
            props = self.defs[name].get("properties", {})
            tag = props.get(disc, {}).get("const", name)
            self.lines += [f"### `{disc}: {tag}`", ""]
            doc = self.defs[name].get("description")
            if doc:
                self.lines += [" ".join(doc.split()), ""]
            nested: list[tuple[str, str]] = []
            inner: dict[str, list[str]] = {}
            self.table(name, prefix, inner, nested)
            self.lines.append("")
            for child, child_path in nested:
                self.section(child, child_path, 4, inner)

    def kafka(self) -> None:
        self.lines += [
            "", "## Kafka client configs", "",
            "Producer and consumer settings come, lowest precedence first, from Kafka's "
            "defaults, the OMB driver's `commonConfig`, its `producerConfig` / "
            "`consumerConfig`, and the scenario's `workload.producer_config` / "
            "`workload.consumer_config` (Kafka's own keys and units: milliseconds, bytes). "
            "geosim converts them to seconds and bytes and records where each value came "
            "from. Keys a driver sets that geosim does not model (`bootstrap.servers`, "
            "`max.partition.fetch.bytes`, ...) are ignored; a key the scenario sets that is "
            "not listed here is an error.",
            "",
            "Kafka's cross-key rules are applied as the Kafka producer applies them: "
            "`enable.idempotence` left at its default is switched off by `acks` other than "
            "`all`, `retries=0` or more than 5 requests in flight (KAFKA-13673), and set "
            "explicitly with them it is an error; an unset `delivery.timeout.ms` below "
            "`linger.ms + request.timeout.ms` is raised to that sum, and an explicit one is "
            "an error; `heartbeat.interval.ms` must be below `session.timeout.ms`.",
            "",
            "The default `linger.ms` is 5 ms, Kafka 4.0's value (KIP-1030); Kafka 3.9 and "
            "earlier used 0.",
        ]
        for title, keys in (("Producer (`workload.producer_config`)", PRODUCER_KEYS),
                            ("Consumer (`workload.consumer_config`)", CONSUMER_KEYS)):
            self.lines += ["", f"### {title}", "",
                           "| key | geosim attribute | unit | Kafka default | description "
                           "| source of default |", "|---|---|---|---|---|---|"]
            for key in keys:
                self.lines.append("| " + " | ".join(_cell(c) for c in self._kafka_row(key))
                                  + " |")

    def strategy_tables(self) -> None:
        """The strategy plug-ins' own tables (config keys...), each title once."""
        seen: set[str] = set()
        for found in plugins.plugins().values():
            tables = found.load("reference")
            for title, columns, rows in (tables() if tables is not None else []):
                if title in seen:
                    continue
                seen.add(title)
                self.lines += ["", f"### {title}", "",
                               "| " + " | ".join(columns) + " |",
                               "|" + "---|" * len(columns)]
                for row in rows:
                    self.lines.append("| " + " | ".join(_cell(c) for c in row) + " |")

    @staticmethod
    def _kafka_row(key: KafkaKey) -> list[str]:
        return [f"`{key.name}`", f"`{key.attr}`", key.unit, describe_default(key),
                key.documented, key.source]

    def object_service_tables(self) -> None:
        """The presets of ``object_store.service`` with every figure's source."""
        book = object_services.load_services()
        add = self.lines.append
        add("## Object-storage services")
        add("")
        add("`object_store.service` names one of these presets "
            "(`geosim/data/object_storage.yaml`); without it, `topology.provider` and "
            "`object_store.kind` pick: "
            + "; ".join(f"{provider}: " + ", ".join(f"{kind} `{name}`"
                                                    for kind, name in by_kind.items())
                        for provider, by_kind in book.defaults.items()) + ". "
            "A request of s bytes takes the round trip to the bucket, plus F (lognormal "
            "through p50 and p99, drawn per request), plus s / B. Request-rate limits are "
            "listed as documented; geosim does not throttle at them yet.")
        add("")
        for name in sorted(book.services):
            svc = object_services.resolve(name, book)
            meta = svc.service
            add(f"### `{name}`")
            add("")
            where = "zonal (`object_store.zones`)" if meta.zonal else "regional"
            add(f"{meta.description}. Provider {meta.provider}; kinds "
                f"{', '.join(meta.kinds)}; {where}."
                + (f" Figures as `{meta.same_as}`." if meta.same_as else "")
                + (f" {meta.note}" if meta.note else ""))
            add("")
            add("| figure | value | source | date | confidence |")
            add("|---|---|---|---|---|")
            rows: list[tuple[str, str, object_services.Sourced | None]] = [
                ("PUT F (p50 / p99)", f"{svc.put_ttfb.p50 * 1e3:g} / "
                 f"{svc.put_ttfb.p99 * 1e3:g} ms", svc.put_ttfb),
                ("GET F, time to first byte (p50 / p99)", f"{svc.get_ttfb.p50 * 1e3:g} / "
                 f"{svc.get_ttfb.p99 * 1e3:g} ms", svc.get_ttfb),
                ("PUT B, one connection", f"{svc.put_throughput.value / 2**20:g} MiB/s",
                 svc.put_throughput),
                ("GET B, one connection", f"{svc.get_throughput.value / 2**20:g} MiB/s",
                 svc.get_throughput),
            ]
            for label, limit in (("writes", svc.write_rate_limit),
                                 ("reads", svc.read_rate_limit)):
                if limit is not None:
                    rows.append((f"{label} per s per {limit.scope}", f"{limit.value:,.0f}",
                                 limit))
            for label, value, fig in rows:
                assert fig is not None
                add(f"| {label} | {value} | {_cell(fig.source)} | {fig.date} | "
                    f"{fig.confidence} |")
            add("")

    def render(self) -> str:
        self.lines = [
            "# Scenario reference",
            "",
            "<!-- Generated by `python -m geosim.scenario.reference`; do not edit. "
            "tests/test_scenario_reference.py fails if this file and the schema disagree. -->",
            "",
            "A scenario is a YAML file (or a dict passed to "
            "`geosim.scenario.loader.scenario_from_dict`). Field paths below use dots for "
            "nested fields, `[]` for list items and `<id>` for mapping keys; `--set` "
            "overrides use the same paths with indices (`faults[0].at=5m`).",
            "",
            "**Units.** Durations, sizes and rates may be written with a suffix and are "
            "stored in seconds, bytes and bytes/s; a bare number is already in those units.",
            "",
            f"- durations: {', '.join(f'`{u}`' for u in units._DURATION if u)}",
            f"- sizes: {', '.join(f'`{u}`' for u in units._SIZE if u)}",
            f"- rates: bytes per second as `<size>/s` (`MiB/s`, `GB/s`) or bits per second "
            f"({', '.join(f'`{u}`' for u in units._BITS)})",
            "",
            "**Places.** Regions are the keys of `topology.regions`; a zone id is "
            "`<region>-<suffix>` (`us-west1-a`). Every region or zone named anywhere must "
            "exist; placements (`workload.producers`, `strategy.brokers`...) accept either. "
            "The loader also checks what the schema alone cannot: metadata presets have "
            "the regions they need, faults start before `simulation.duration`, a max-rate "
            "run builds no consumer backlog, no duration, size or rate is negative; each "
            "strategy checks its own block (see its section under Strategies).",
            "",
            "**Bounds.** Every number must be finite. Any duration is at most 366 days, "
            "any size at most 1 PiB, any rate at most 1 PB/s; a simulation's duration, "
            "warmup and drain at most 30 days each, with at most 10 million time-series "
            "bins (`simulation.bin` at least 1 ms); brokers per region or zone at most "
            "10,000; OMB topics and partitions (per topic and in total) at most 10 "
            "million, messages at most 2^31 - 1 bytes (Kafka's sizes are 32-bit), "
            "records at most 10^10 per second. These are model bounds far beyond any "
            "deployment: they turn a mistyped value into an error instead of a run that "
            "never ends or exhausts memory. YAML files over 4 MiB, nesting deeper than "
            "64 levels and aliases expanding beyond 200,000 nodes are refused.",
            "",
            "**OMB files.** `workload.omb` and `workload.driver` take a path relative to "
            "the scenario file, a bundled copy `omb:workloads/<file>` / "
            "`omb:driver-kafka/<file>` (openmessaging/benchmark @85599891, Apache-2.0; "
            "see `geosim/data/omb/README.md`), or the fields inline.",
        ]
        groups: dict[str, list[str]] = {}
        self.section("Scenario", "", 2, groups)
        where = {"dist": "`topology.same_zone_rtt`, `topology.inter_zone_rtt`, "
                         "`topology.links[].rtt`, `object_store.put_latency`, "
                         "`object_store.get_latency`",
                 "kind": "`faults[]`", "name": "`strategy`"}
        for disc in ("name", "kind", "dist"):
            if disc in groups:
                self.group(disc, groups[disc], where[disc])
        self.kafka()
        self.object_service_tables()
        self.strategy_tables()
        return "\n".join(self.lines).rstrip() + "\n"


def render_reference() -> str:
    """The full Markdown reference, deterministic for a given schema."""
    return _Renderer().render()


def main() -> None:
    """Write the reference to standard output."""
    sys.stdout.write(render_reference())


if __name__ == "__main__":
    main()
