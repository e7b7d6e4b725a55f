"""Parsing of human units into seconds, bytes and bytes per second (geosim.core.units)."""

from __future__ import annotations

import doctest
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geosim.core import units
from geosim.core.units import (
    UnitError,
    format_bytes,
    format_duration,
    parse_duration,
    parse_rate,
    parse_size,
)


def test_module_doctests_pass():
    result = doctest.testmod(units, verbose=False)
    assert result.attempted >= 4  # the examples in the module docstring ran
    assert result.failed == 0


# --- durations ------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("25ms", 0.025),
    ("1.5s", 1.5),
    ("1.5sec", 1.5),
    ("30m", 1800.0),
    ("30min", 1800.0),
    ("2h", 7200.0),
    ("1d", 86400.0),
    ("250us", 250e-6),
    ("100ns", 100e-9),
    ("1e-3s", 1e-3),
    (".5s", 0.5),
    ("  25 ms  ", 0.025),
    ("42", 42.0),
    (42, 42.0),
    (0.25, 0.25),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


def test_parse_duration_micro_sign():
    assert parse_duration("5µs") == pytest.approx(5e-6)


@pytest.mark.parametrize("text", ["25 parsecs", "5M", "ms", "", "1.2.3s", "abc", "25mss",
                                  "1KiB", "10Gbps"])
def test_parse_duration_rejects_bad_units(text):
    with pytest.raises(UnitError):
        parse_duration(text)


def test_unit_errors_are_value_errors_and_name_the_input():
    with pytest.raises(ValueError, match="'25 parsecs'"):
        parse_duration("25 parsecs")
    with pytest.raises(UnitError, match="boolean"):
        parse_duration(True)


# --- sizes ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, nbytes", [
    ("1GiB", 2**30),
    ("512KiB", 512 * 2**10),
    ("64MiB", 64 * 2**20),
    ("2TiB", 2 * 2**40),
    ("1PiB", 2**50),
    ("1kB", 1000),
    ("1KB", 1000),
    ("10MB", 10**7),
    ("1GB", 10**9),
    ("1TB", 10**12),
    ("1PB", 10**15),
    ("100B", 100),
    ("100", 100),
    ("1.5KiB", 1536),
    (4096, 4096),
])
def test_parse_size(text, nbytes):
    value = parse_size(text)
    assert value == nbytes
    assert isinstance(value, int)


def test_binary_and_decimal_prefixes_differ():
    assert parse_size("1GiB") - parse_size("1GB") == 2**30 - 10**9


@pytest.mark.parametrize("text", ["1gib", "1Gb", "1Mb", "1 parsec", "GiB", "1GiB/s", "1s"])
def test_parse_size_rejects_bad_units(text):
    with pytest.raises(UnitError):
        parse_size(text)


# --- rates: bits vs bytes -------------------------------------------------------------

@pytest.mark.parametrize("text, bytes_per_s", [
    ("10Gbps", 10e9 / 8),
    ("1Gbit/s", 1e9 / 8),
    ("100Mbps", 100e6 / 8),
    ("100Mbit/s", 100e6 / 8),
    ("8kbps", 1000.0),
    ("8Kbps", 1000.0),
    ("8kbit/s", 1000.0),
    ("8bps", 1.0),
    ("8bit/s", 1.0),
    ("1Tbps", 1e12 / 8),
    pytest.param("1Tbit/s", 1e12 / 8),
])
def test_parse_rate_bits(text, bytes_per_s):
    assert parse_rate(text) == pytest.approx(bytes_per_s, rel=1e-12)


@pytest.mark.parametrize("text, bytes_per_s", [
    ("100MiB/s", 100 * 2**20),
    ("1GB/s", 1e9),
    ("1GiB/s", 2**30),
    ("1kB/s", 1000.0),
    ("1B/s", 1.0),
    ("2.5e6", 2.5e6),
    (1000, 1000.0),
])
def test_parse_rate_bytes(text, bytes_per_s):
    assert parse_rate(text) == pytest.approx(bytes_per_s, rel=1e-12)


def test_bits_are_an_eighth_of_bytes():
    assert parse_rate("8Gbps") == parse_rate("1GB/s")
    assert parse_rate("8Mbit/s") == parse_rate("1MB/s")


def test_lowercase_b_per_second_is_bits():
    assert parse_rate("8b/s") == parse_rate("8bps")


@pytest.mark.parametrize("text", ["10Gb", "10 GiB", "1MiB/h", "fast", "10gbps", "1Gbit",
                                  "30ms"])
def test_parse_rate_rejects_bad_units(text):
    with pytest.raises(UnitError):
        parse_rate(text)


# --- properties ------------------------------------------------------------------------

@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_bare_numbers_are_canonical(x):
    assert parse_duration(x) == x
    assert parse_rate(x) == x
    assert parse_duration(repr(x)) == pytest.approx(x, rel=1e-12)


@given(st.integers(min_value=0, max_value=10**6),
       st.sampled_from([("ms", "s", 1e-3), ("s", "m", 1 / 60), ("m", "h", 1 / 60)]))
def test_duration_units_are_consistent(n, pair):
    small, big, ratio = pair
    assert parse_duration(f"{n}{small}") == pytest.approx(parse_duration(f"{n * ratio}{big}"),
                                                          rel=1e-9, abs=1e-15)


@given(st.integers(min_value=0, max_value=2**20))
def test_size_prefixes_scale_by_1024(n):
    assert parse_size(f"{n}KiB") == 1024 * parse_size(f"{n}B")
    assert parse_size(f"{n}MiB") == 1024 * parse_size(f"{n}KiB")


# --- formatting ------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (0.025, "25ms"), (0.005, "5.00ms"), (1.5, "1.5s"), (1800, "30.0m"),
    (7200, "2.0h"), (math.nan, "n/a"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("n, text", [
    (100, "100B"), (2**10, "1.00KiB"), (1.5 * 2**20, "1.50MiB"), (2**30, "1.00GiB"),
    (2**60, "1024.00PiB"),
])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize("text", ["1GiB", "64MiB", "512KiB", "3TiB"])
def test_format_bytes_round_trips_parse_size(text):
    assert parse_size(format_bytes(parse_size(text))) == parse_size(text)
