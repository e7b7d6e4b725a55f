"""Parsing of human units into geosim's canonical units.

Inside geosim every duration is in seconds, every size in bytes and every rate in
bytes per second. Scenario files may use suffixed strings; this module is the only
place that parses them.

>>> parse_duration("25ms")
0.025
>>> parse_size("1GiB")
1073741824
>>> parse_rate("10Gbps")
1250000000.0
>>> parse_duration("30m")
1800.0
"""

from __future__ import annotations

import re

_NUMBER = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
_PATTERN = re.compile(rf"^\s*{_NUMBER}\s*([A-Za-zµ/%]*)\s*$")

_DURATION = {
    "": 1.0, "s": 1.0, "sec": 1.0, "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3,
    "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
}
_SIZE = {
    "": 1, "B": 1,
    "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
}
# Rates: bytes per second ("MiB/s", "GB/s") or bits per second ("Mbps", "Gbit/s").
# A lower-case b is the bit (IEEE 1541): "8b/s" is one byte per second.
_BITS = {"bps": 1, "kbps": 10**3, "Kbps": 10**3, "Mbps": 10**6, "Gbps": 10**9, "Tbps": 10**12,
         "b/s": 1, "kb/s": 10**3, "Kb/s": 10**3, "Mb/s": 10**6, "Gb/s": 10**9, "Tb/s": 10**12,
         "bit/s": 1, "kbit/s": 10**3, "Mbit/s": 10**6, "Gbit/s": 10**9, "Tbit/s": 10**12}


class UnitError(ValueError):
    """A string could not be parsed as the expected kind of quantity."""


def _split(text: str | int | float, kind: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise UnitError(f"expected a {kind}, got a boolean")
    if isinstance(text, int | float):
        return float(text), ""
    match = _PATTERN.match(str(text))
    if not match:
        raise UnitError(f"expected a {kind} such as {_EXAMPLES[kind]}, got {text!r}")
    return float(match.group(1)), match.group(2)


_EXAMPLES = {"duration": "'25ms' or '30m'", "size": "'1GiB' or '512KiB'",
             "rate": "'10Gbps' or '100MiB/s'"}


def parse_duration(text: str | int | float) -> float:
    """Seconds from ``'25ms'``, ``'1.5s'``, ``'30m'``, ``'2h'`` or a bare number of seconds."""
    value, unit = _split(text, "duration")
    if unit not in _DURATION:
        raise UnitError(f"unknown duration unit {unit!r} in {text!r} "
                        f"(use ns, us, ms, s, m, h or d)")
    return value * _DURATION[unit]


def parse_size(text: str | int | float) -> int:
    """Bytes from ``'1GiB'``, ``'64KiB'``, ``'10MB'`` or a bare number of bytes."""
    value, unit = _split(text, "size")
    if unit not in _SIZE:
        raise UnitError(f"unknown size unit {unit!r} in {text!r} "
                        f"(use B, KiB, MiB, GiB, TiB, PiB or kB, MB, GB, TB, PB)")
    return int(round(value * _SIZE[unit]))


def parse_rate(text: str | int | float) -> float:
    """Bytes per second from ``'10Gbps'`` (bits), ``'100MiB/s'`` (bytes) or a bare number."""
    value, unit = _split(text, "rate")
    if unit in _BITS:
        return value * _BITS[unit] / 8.0
    if unit.endswith("/s") and unit[:-2] in _SIZE:
        return value * _SIZE[unit[:-2]]
    if unit == "":
        return value
    raise UnitError(f"unknown rate unit {unit!r} in {text!r} (use e.g. Gbps, Mbps, MiB/s, GB/s)")


def format_duration(seconds: float) -> str:
    """Short human form of a duration, for tables."""
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds == 0:
        return "0s"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.0f}ms" if abs(seconds) >= 0.01 else f"{seconds * 1e3:.2f}ms"
    if abs(seconds) < 120:
        return f"{seconds:.1f}s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def format_bytes(n: float) -> str:
    """Short human form of a byte count (binary prefixes)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.2f}{unit}"
        n /= 1024
    raise AssertionError("unreachable")
