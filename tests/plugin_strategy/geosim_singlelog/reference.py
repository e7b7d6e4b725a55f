"""An extra table for the scenario reference (proves the reference hook)."""

from __future__ import annotations


def tables() -> list[tuple[str, list[str], list[list[str]]]]:
    return [("single-log events", ["event", "when"],
             [["`PartitionChanged`", "the home zone goes down or comes back"],
              ["`RowsTruncated`", "the home zone's region is destroyed"]])]
