"""Scenario dicts that tests of the scenario package start from (imported like
``golden_cases``: pytest puts this folder on ``sys.path``)."""

from __future__ import annotations


def tiny() -> dict:
    """A minimal valid scenario: one region r1 with zones a, b; regional store; etcd."""
    return {
        "name": "tiny",
        "topology": {"regions": {"r1": {"zones": ["a", "b"]}}},
        "object_store": {"kind": "regional", "regions": ["r1"]},
        "metadata": {"preset": "etcd", "regions": ["r1"]},
        "workload": {"omb": {"name": "tiny", "topics": 1, "partitionsPerTopic": 2,
                             "messageSize": 100, "producerRate": 1000}},
        "strategy": {"name": "diskless"},
    }
