"""One edge site as a fluid (geosim.strategies.edge.fluid.FluidSite), stepped by hand
from change to change as the edge strategy's class process does, on small numbers.

Most cases use one partition producing 1,000 B/s and the link ``UP``: a 1 s round trip
and no rate bound, so every fetch cycle takes 1 s whatever its size, a fetcher behind
moves ``budget`` bytes a second, and the caught-up lag is ``1.5 x 1 - 1 / 2 = 1 s``
(:meth:`LinkNow.caught_up_lag`). Retention checks come 30 s after the site's start
(``FIRST_CHECK_DELAY``), then every ``check_interval``. Each expected value is worked
by hand from the module's docstrings.
"""

from __future__ import annotations

import math

import pytest

from geosim.strategies.edge.config import FIRST_CHECK_DELAY, SiteLogConfig
from geosim.strategies.edge.fluid import FluidSite
from geosim.strategies.edge.uplink import DOWN, LinkNow

RATE = 1000.0
UP = LinkNow("up", rtt=1.0, budget=6000)       # capacity 6,000 B/s, lag 1 s
SLOW = LinkNow("slow", rtt=3.0, budget=6000)   # lag 3 s


def make(*, rate: float = RATE, partitions: int = 1, production_end: float = 100.0,
         brokers: int = 3, replication_factor: int = 3, min_insync: int = 2,
         **config) -> FluidSite:
    return FluidSite(rate=rate, partitions=partitions, config=SiteLogConfig(**config),
                     production_end=production_end, brokers=brokers,
                     replication_factor=replication_factor, min_insync=min_insync)


def state(site: FluidSite) -> tuple:
    """What the tests compare: the clock, the log's ends, the copy and the regime."""
    response = site.response
    return (site.t, site.start, site.head, site.position, site.regime,
            None if response is None else (response.sent, response.arrives, response.size))


def test_the_links_of_these_cases():
    assert (UP.cycle(1.0), UP.cycle(6000.0), UP.capacity) == (1.0, 1.0, 6000.0)
    assert (UP.caught_up_lag(RATE), SLOW.caught_up_lag(RATE)) == (1.0, 3.0)
    assert FIRST_CHECK_DELAY == 30.0


# --- a new site -----------------------------------------------------------------------
def test_a_new_site_is_empty_at_time_zero_producing_with_its_link_down():
    site = make()
    assert (site.t, site.life_start, site.head, site.start, site.position) == (0, 0, 0, 0, 0)
    assert (site.replicated, site.copied, site.newest) == (0.0, 0.0, 0.0)
    assert (site.lost_retention, site.lost_failure, site.brokers_lost) == (0.0, 0.0, 0)
    assert (site.alive, site.out, site.link, site.response, site.regime) == (
        True, False, DOWN, None, "stopped")
    assert site.producing() and site.produce == RATE
    assert site.check_at == math.inf


@pytest.mark.parametrize("partitions, segment_bytes, segment_time, segment", [
    # per partition the least of segment.bytes and what segment.ms fills:
    # 1,000 / 2 x 1 = 500 B a partition, so 1,000 B a round of segments
    (2, 300, 1.0, 600.0),      # segment.bytes rolls first: 300 < 500
    (2, 300, 0.2, 200.0),      # segment.ms rolls first: 1,000 / 2 x 0.2 = 100 < 300
    (4, 1000, 2.0, 2000.0),    # 1,000 / 4 x 2 = 500 < 1,000, x 4 partitions
])
def test_a_round_of_segments_is_the_first_roll_of_each_partition(
        partitions, segment_bytes, segment_time, segment):
    site = make(partitions=partitions, segment_bytes=segment_bytes,
                segment_time=segment_time)
    assert site.segment == segment


def test_a_site_producing_under_a_byte_a_second_still_produces():
    assert make(rate=0.5).producing()


# --- what is produced -----------------------------------------------------------------
@pytest.mark.parametrize("brokers, min_insync, lost, producing", [
    (3, 2, 1, True),     # 2 brokers left >= min.insync.replicas 2
    (3, 2, 2, False),    # 1 left < 2
    (4, 1, 3, True),     # 1 left >= 1 (replication factor 4: the log survives)
    (4, 0, 3, True),     # min.insync.replicas 0 still needs one broker: 1 >= 1
])
def test_a_site_produces_while_enough_brokers_are_left(brokers, min_insync, lost,
                                                       producing):
    site = make(brokers=brokers, replication_factor=4, min_insync=min_insync)
    assert site.lose_brokers(lost) == 0.0
    assert site.producing() is producing
    assert site.produce == (RATE if producing else 0.0)


def test_production_stops_at_its_end_and_while_the_site_is_out():
    site = make(production_end=10.0)
    site.advance(9.5)
    assert site.producing()
    site.advance(10.0)                       # the end itself produces no more
    assert not site.producing() and site.head == 10_000.0
    site.advance(12.0)
    assert site.head == 10_000.0
    out = make()
    out.set_out(True)
    out.advance(5.0)
    assert not out.producing() and out.head == 0.0 and out.out
    out.set_out(False)
    out.advance(7.0)
    assert out.producing() and out.head == 2000.0


def test_the_caught_up_lag_follows_the_link_and_is_zero_once_production_stops():
    site = make(production_end=10.0)
    site.set_link(UP)
    assert site.lag() == 1.0
    site.set_link(SLOW)
    assert site.lag() == 3.0
    site.advance(10.0)
    assert site.lag() == 0.0


# --- fetching ---------------------------------------------------------------------------
def test_a_fetcher_behind_moves_by_whole_responses_then_waits_then_follows():
    """The link comes up at 10 s over 10,000 B. A request reaches the site half a round
    trip later, when it holds 10,500 B: the response is the budget, 6,000 B, landing at
    11 s. Then 5,000 B are behind, and at 11.5 s the site holds 11,500: a response of
    5,500 B, landing at 12 s, puts the copy at 11,500 with the head at 12,000, ahead
    of the caught-up target (12,000 - 1 s x 1,000 B/s): it waits until 12.5 s, then
    follows the head 1 s behind."""
    site = make()
    site.advance(10.0)
    site.set_link(UP)
    assert state(site) == (10.0, 0.0, 10_000.0, 0.0, "fetching", (10.0, 11.0, 6000.0))
    assert site.next_change() == 11.0
    site.advance(11.0)
    assert state(site) == (11.0, 0.0, 11_000.0, 6000.0, "fetching", (11.0, 12.0, 5500.0))
    assert (site.replicated, site.newest) == (6000.0, 6.0)
    assert site.next_change() == 12.0
    site.advance(12.0)
    assert state(site) == (12.0, 0.0, 12_000.0, 11_500.0, "ahead", None)
    assert site.next_change() == 12.5
    site.advance(12.25)                      # still ahead: 11,500 > 12,250 - 1,000
    assert site.regime == "ahead" and site.position == 11_500.0
    site.advance(12.5)
    assert state(site) == (12.5, 0.0, 12_500.0, 11_500.0, "caught", None)
    site.advance(14.0)
    assert state(site) == (14.0, 0.0, 14_000.0, 13_000.0, "caught", None)
    assert (site.replicated, site.copied, site.newest) == (13_000.0, 13_000.0, 13.0)
    assert site.take_copied() == 13_000.0 and site.take_copied() == 0.0
    assert site.replicated == 13_000.0


@pytest.mark.parametrize("up_at, regime, position, response", [
    # 2,500 B behind, more than two caught-up cycles (2 x 1 s x 1,000 B/s): a fetch
    # reaching the site at 3 s, of 3,000 B
    (2.5, "fetching", 0.0, (2.5, 3.5, 3000.0)),
    # 2,000 B behind, exactly two cycles: caught up, the copy jumps to 1 s behind
    (2.0, "caught", 1000.0, None),
    # 1,500 B behind: the copy jumps to 500 B
    (1.5, "caught", 500.0, None),
    # 800 B behind: less than a cycle, the copy stays and the head reaches it
    (0.8, "ahead", 0.0, None),
])
def test_a_link_coming_up_fetches_or_follows_by_how_far_behind_the_copy_is(
        up_at, regime, position, response):
    site = make()
    site.advance(up_at)
    site.set_link(UP)
    assert state(site) == (up_at, 0.0, up_at * RATE, position, regime, response)


def test_a_site_producing_at_the_links_capacity_always_fetches():
    """At 1,000 B/s over a link of 1,000 B/s (a 1 s cycle for its 1,000 B budget) the
    fetcher can never catch up: even 1,500 B behind (within two cycles), it fetches the
    budget."""
    site = make()
    site.advance(1.5)
    site.set_link(LinkNow("up", rtt=1.0, budget=1000))
    assert state(site) == (1.5, 0.0, 1500.0, 0.0, "fetching", (1.5, 2.5, 1000.0))


@pytest.mark.parametrize("t, size", [
    (0.5, 0.5),     # half a byte behind: a fetch of it, 0.5 s over 1 B/s
    (0.0, 1.0),     # nothing behind: the budget, carried as it is produced
])
def test_a_fetch_over_no_round_trip_at_the_links_capacity(t, size):
    """1 B/s over a link of no round trip and 1 B/s (its capacity, so never caught up
    by lag): the request reaches the site at once and takes what it holds; with
    nothing there yet, the response carries the budget as it is produced (production
    keeps up with the link), rather than the caught-up regime, which would follow the
    head at the produce rate whatever the link carries."""
    site = make(rate=1.0)
    site.advance(t)
    site.set_link(LinkNow("up", bandwidth=1.0, budget=1))
    assert state(site) == (t, 0.0, t, 0.0, "fetching", (t, t + size, size))


def test_the_last_fetch_takes_what_was_produced_until_production_ended():
    """Production ends at 10.25 s. A request sent at 10 s (a budget of 20,000 B)
    reaches the site at 10.5 s, after the end: it takes the 10,250 B the site holds
    from 10.25 s on, and the copy is complete when it lands."""
    site = make(production_end=10.25)
    site.advance(10.0)
    site.set_link(LinkNow("up", rtt=1.0, budget=20_000))
    assert state(site) == (10.0, 0.0, 10_000.0, 0.0, "fetching", (10.0, 11.0, 10_250.0))
    site.advance(10.25)
    assert site.response is not None and not site.producing()
    site.advance(11.0)
    assert state(site) == (11.0, 0.0, 10_250.0, 10_250.0, "caught", None)
    # nothing changes until retention deletes the active segment, its newest record
    # (10.25 s) seven days old: at the check of 30 + 2,016 x 300 = 604,830 s
    assert site.next_change() == 604_830.0


def test_a_link_with_no_round_trip_slower_than_production_copies_at_its_capacity():
    """No round trip, 500 B/s and 1,000 B responses: a 2 s cycle, 500 B/s of capacity
    against 1,000 B/s produced. The first request finds nothing yet, so its response
    carries 1,000 B as they are produced; from then on each response is a full one
    and the copy falls behind at 500 B/s (never "caught up" at the produce rate)."""
    link = LinkNow("up", rtt=0.0, bandwidth=500.0, budget=1000)
    assert (link.capacity, link.cycle(1000.0)) == (500.0, 2.0)
    site = make()
    site.set_link(link)
    assert state(site) == (0.0, 0.0, 0.0, 0.0, "fetching", (0.0, 2.0, 1000.0))
    site.advance(2.0)
    assert state(site) == (2.0, 0.0, 2000.0, 1000.0, "fetching", (2.0, 4.0, 1000.0))
    site.advance(4.0)
    site.advance(6.0)
    assert state(site) == (6.0, 0.0, 6000.0, 3000.0, "fetching", (6.0, 8.0, 1000.0))
    assert site.replicated == 3000.0


def test_once_production_has_ended_a_fetch_takes_what_the_site_holds():
    """From 10.25 s the site no longer produces and its lag is 0: at 11 s the copy,
    4,250 B behind, fetches all of it (not by lag), the request finding no more."""
    site = make(production_end=10.25)
    site.advance(10.0)
    site.set_link(UP)
    assert state(site) == (10.0, 0.0, 10_000.0, 0.0, "fetching", (10.0, 11.0, 6000.0))
    assert site.next_change() == 10.25        # the end of production is a step
    site.advance(10.25)
    site.advance(11.0)
    assert state(site) == (11.0, 0.0, 10_250.0, 6000.0, "fetching", (11.0, 12.0, 4250.0))
    site.advance(12.0)
    assert state(site) == (12.0, 0.0, 10_250.0, 10_250.0, "caught", None)


def test_a_response_in_flight_lands_within_a_nanosecond_of_its_time():
    """The response of 6,000 B due at 11 s lands at a step 0.5 ns before it, not at
    one 2 ns before."""
    site = make()
    site.advance(10.0)
    site.set_link(UP)
    site.advance(11.0 - 2e-9)
    assert site.response is not None and site.position == 0.0
    site.advance(11.0 - 5e-10)
    assert site.response is not None and site.response.sent == 11.0 - 5e-10
    assert site.position == 6000.0


def test_the_lag_growing_puts_the_copy_ahead_until_the_head_reaches_it():
    """Caught up on ``UP`` from 1.5 s, at 5 s the copy is at 4,000 B; then, the link turns
    ``SLOW`` (lag 3 s): the target is 5,000 - 3,000 = 2,000 B, so the copy waits 2 s."""
    site = make()
    site.advance(1.5)
    site.set_link(UP)
    assert site.regime == "caught" and site.position == 500.0
    site.advance(5.0)
    site.set_link(SLOW)
    assert state(site) == (5.0, 0.0, 5000.0, 4000.0, "ahead", None)
    assert site.next_change() == 7.0
    site.advance(7.0)
    assert state(site) == (7.0, 0.0, 7000.0, 4000.0, "caught", None)


# --- retention ------------------------------------------------------------------------
def test_retention_ms_deletes_the_closed_segments_whose_newest_record_expired():
    """1,000 B segments, ``retention.ms`` 10 s, checks every 5 s from 30 s; the link is
    down. The first segment's newest record (1 s) expires at 11 s: the first check, 30
    s, deletes the 20 segments whose newest record is 20 s old or older, all unread.
    The next expires at 21 + 10 = 31 s: the check at 35 s deletes 5 more."""
    site = make(segment_bytes=1000, retention_time=10.0, check_interval=5.0)
    assert site.next_check() == 30.0 and site.check_at == 30.0
    assert not site.is_check_time()
    site.advance(30.0)
    assert site.is_check_time()
    assert site.retention_check() == 20_000.0
    assert state(site) == (30.0, 20_000.0, 30_000.0, 20_000.0, "stopped", None)
    assert site.next_check() == 35.0
    site.advance(34.0)
    assert not site.is_check_time()
    site.advance(35.0)
    assert site.retention_check() == 5000.0
    assert (site.start, site.position, site.lost_retention) == (25_000.0, 25_000.0, 25_000.0)


def test_retention_ms_deletes_the_active_segment_once_production_has_ended():
    """Production ends at 20.5 s: at 35 s records up to 25 s old are expired, the
    active segment's newest (20.5 s) included. Kafka's ``UnifiedLog.deletableSegments``
    spares only an empty last segment, so the whole log goes (unread: the link is down),
    and a new segment rolls at its end; nothing is left to expire."""
    site = make(production_end=20.5, segment_bytes=1000, retention_time=10.0,
                check_interval=5.0)
    site.advance(20.5)
    assert site.next_check() == 30.0           # the closed segments, due from 11 s
    site.advance(30.0)
    assert site.retention_check() == 20_000.0  # up to 20 s old: the closed ones
    assert site.next_check() == 35.0           # the active one, due at 30.5 s
    site.advance(35.0)
    assert site.retention_check() == 500.0
    assert (site.start, site.head, site.seg_base, site.position) == (20_500.0,) * 4
    assert site.next_check() == math.inf


def test_retention_bytes_deletes_whole_segments_down_to_the_limit_per_partition():
    """Two partitions, 500 B segments each (a round of 1,000 B), ``retention.bytes``
    1,000 a partition. A check deletes once the log holds 1,000 + 500 B a partition,
    3,000 B: due at 3 s, so at the first check, 30 s, when it holds 30,000 B, 15,000
    a partition, 14,000 over the limit: 28 rounds go. At 35 s 2,500 a partition over:
    5 more."""
    site = make(partitions=2, segment_bytes=500, retention_bytes=1000, check_interval=5.0)
    assert site.segment == 1000.0
    assert site.next_check() == 30.0
    site.advance(30.0)
    assert site.retention_check() == 28_000.0
    assert (site.start, site.position) == (28_000.0, 28_000.0)
    # the next deletes once 3,000 B are past 28,000: at 31 s, so the check at 35 s
    assert site.next_check() == 35.0
    site.advance(35.0)
    assert site.retention_check() == 5000.0
    assert (site.start, site.lost_retention) == (33_000.0, 33_000.0)


@pytest.mark.parametrize("head, start", [
    (2999.0, 0.0),      # 1,499.5 a partition: not a whole segment over the limit
    (3000.0, 1000.0),   # exactly a segment over: one round goes
    (3999.0, 1000.0),   # 1,999.5: still one
])
def test_retention_bytes_deletes_only_whole_segments(head, start):
    site = make(partitions=2, segment_bytes=500, retention_bytes=1000)
    site.advance(head / RATE)
    assert site.head == head
    assert site.retention_check() == start
    assert site.start == start


def test_a_retention_bytes_of_zero_deletes_the_active_segment_too():
    """``retention.bytes`` 0: every segment goes, the active one too once it holds a
    record (Kafka's size rule ``diff - segment.size >= 0`` holds for it at 0), so a
    check is due whenever the log is not empty; segments then roll from the old end."""
    site = make(segment_bytes=1000, retention_bytes=0, check_interval=5.0)
    assert site.next_check() == 30.0
    site.advance(30.5)
    assert site.retention_check() == 30_500.0
    assert (site.start, site.head, site.seg_base) == (30_500.0, 30_500.0, 30_500.0)
    assert site.next_check() == 35.0
    site.advance(35.0)
    assert site.retention_check() == 4500.0    # 4 segments from 30,500 and 500 B more
    assert (site.start, site.seg_base) == (35_000.0, 35_000.0)


def test_a_retention_bytes_of_zero_checks_at_every_instant_while_producing():
    """With segments far larger than a check interval's data, a producing site's
    active segment holds records at every check, so each check is due (not only
    once a whole segment has filled)."""
    site = make(segment_bytes=10**6, retention_bytes=0, check_interval=5.0)
    site.advance(30.5)
    assert site.retention_check() == 30_500.0
    assert site.next_check() == 35.0
    site.advance(35.0)
    assert site.retention_check() == 4500.0
    assert site.next_check() == 40.0


def test_a_site_out_with_only_an_active_segment_deletes_it_once_expired():
    """Out (not producing) with 500 B, half its first segment, under its size limit:
    the active segment's newest record (0.5 s) expires at 10.5 s, so the first check,
    30 s, deletes it; then nothing is due until the site produces again."""
    site = make(segment_bytes=1000, retention_bytes=1000, retention_time=10.0)
    site.advance(0.5)
    site.set_out(True)
    assert site.next_check() == 30.0 and site.next_change() == 30.0
    site.advance(30.0)
    assert site.retention_check() == 500.0
    assert site.next_check() == math.inf and site.check_at == math.inf
    assert site.next_change() == math.inf


def test_an_empty_site_out_has_no_check_due():
    site = make(segment_bytes=1000, retention_time=10.0)
    site.set_out(True)
    assert site.next_check() == math.inf and site.next_change() == math.inf


def test_segments_expire_while_the_site_is_out():
    """Out at 1.5 s, its first segment (closed at 1 s) expires at 11 s and the active
    one (newest record 1.5 s) at 11.5 s: the check at 30 s deletes both."""
    site = make(segment_bytes=1000, retention_time=10.0, check_interval=5.0)
    site.advance(1.5)
    site.set_out(True)
    assert site.next_check() == 30.0
    site.advance(30.0)
    assert site.retention_check() == 1500.0
    assert site.next_check() == math.inf


def test_a_pause_in_production_delays_expiry_by_its_length():
    """Out from 0 to 10 s, then producing 1,000 B/s: the record at 10,000 B was produced
    at 20 s, not 10 s. At 30 s with ``retention.ms`` 10 s the records up to 20 s old
    are the first 10,000 B: ten segments go, not twenty."""
    site = make(segment_bytes=1000, retention_time=10.0, check_interval=5.0)
    site.set_out(True)
    site.advance(10.0)
    site.set_out(False)
    site.advance(30.0)
    assert (site.time_of(0.0), site.time_of(500.0), site.time_of(20_000.0)) == (
        0.0, 10.5, 30.0)
    assert site.position_at(20.0) == 10_000.0 and site.position_at(5.0) == 0.0
    assert site.retention_check() == 10_000.0
    assert site.start == 10_000.0
    # the next segment (to 11,000 B) was full at 21 s: due at 31 s, the check at 35 s
    assert site.next_check() == 35.0


def test_positions_and_times_across_two_runs_of_production():
    """Producing 0-5 s (5,000 B), out 5-8 s, producing again from 8 s: position 5,000
    ends the first run (5 s), 5,001 is 1 ms into the second (8.001 s); at 6 and 7 s
    the log ended at 5,000; the copy's newest record follows the same map."""
    site = make(segment_bytes=1000)
    site.advance(5.0)
    site.set_out(True)
    site.advance(8.0)
    site.set_out(False)
    site.advance(9.0)
    assert site.head == 6000.0
    assert (site.time_of(5000.0), site.time_of(5001.0), site.time_of(6000.0)) == (
        5.0, 8.001, 9.0)
    assert [site.position_at(t) for t in (2.5, 5.0, 6.0, 7.9, 8.5, 9.0)] == [
        2500.0, 5000.0, 5000.0, 5000.0, 5500.0, 6000.0]
    site.set_link(UP)                          # a fetch of 6,000 B, landing at 10 s
    site.advance(10.0)
    assert site.position >= 6000.0 and site.newest == site.time_of(site.position)
    assert site.newest == 8.0 + (site.position - 5000.0) / RATE


@pytest.mark.parametrize("t, expected", [
    (0.0, 30.0),     # due at 3 s, before the first check
    (31.0, 35.0),    # overdue, between two checks: the next one
    (35.0, 40.0),    # overdue at a check instant: the one after it
    (35.0 - 5e-10, 40.0),   # within a nanosecond of an instant: counts as it
    (35.0 - 1e-9, 40.0),    # a nanosecond before it, exactly: still
])
def test_a_check_due_by_size_is_the_first_check_after_now(t, expected):
    site = make(segment_bytes=1000, retention_bytes=1000, check_interval=5.0)
    site.advance(t)
    assert site.next_check() == expected


@pytest.mark.parametrize("retention_time, expected", [
    (44.0, 45.0),     # due at 1 + 44 = 45 s, a check instant: that one
    (43.5, 45.0),     # due at 44.5 s: the next instant
    (49.0, 50.0),     # due at 50 s, the fifth check
])
def test_a_check_due_by_time_is_the_first_check_at_or_after_it(retention_time, expected):
    site = make(segment_bytes=1000, retention_time=retention_time, check_interval=5.0)
    assert site.next_check() == expected


def test_a_check_due_later_is_not_moved_to_an_earlier_instant():
    """At 30.1 s the first segment's newest record (1 s) is due to expire at 1 + 29.7 =
    30.7 s: the check at 31 s, not the one at 30.5 s, although both are within a
    second."""
    site = make(segment_bytes=1000, retention_time=29.7, check_interval=0.5)
    site.advance(30.1)
    assert site.next_check() == 31.0


def test_retention_checks_restart_with_a_rebuilt_site():
    """Destroyed at 10 s, rebuilt at 15 s: its log starts empty then, its first check
    comes 30 s later (45 s), and its records are timed from 15 s: the first segment's
    newest record (16 s) expires 40 s later, at 56 s, so the check at 60 s deletes
    what is 40 s old then, 5 s of records."""
    site = make(segment_bytes=1000, retention_time=40.0, check_interval=5.0)
    site.advance(10.0)
    assert site.lose_brokers(3) == 10_000.0
    assert site.next_check() == math.inf and site.retention_check() == 0.0
    site.advance(15.0)
    assert site.head == 0.0
    site.rebuild()
    assert (site.alive, site.life_start, site.head, site.producing()) == (True, 15.0, 0.0, True)
    assert site.next_check() == 60.0
    site.advance(45.0)
    assert site.retention_check() == 0.0
    site.advance(60.0)
    assert site.retention_check() == 5000.0


@pytest.mark.parametrize("config, expected", [
    # the first segment closes at 1,000 s and expires 10 s later
    ({"retention_time": 10.0}, 1010.0),
    # with retention.bytes 0 the active segment goes at the first check
    ({"retention_bytes": 0}, 30.0),
])
def test_a_site_producing_a_byte_a_second_has_its_first_deletion_due(config, expected):
    """(``retention.bytes`` 0: due as soon as the active segment holds a record.)"""
    site = make(rate=1.0, segment_bytes=1000, check_interval=5.0, **config)
    site.advance(0.5)
    assert site.next_check() == expected


def test_a_caught_up_site_producing_a_byte_a_second_is_followed_at_that_rate():
    site = make(rate=1.0)
    site.advance(1.5)
    site.set_link(UP)
    assert (site.regime, site.position) == ("caught", 0.5)
    site.advance(3.5)
    assert site.position == 2.5


def test_a_check_that_deletes_only_copied_bytes_leaves_the_fetcher_where_it_is():
    """Caught up 1 s behind at 3.5 s (the copy at 2,500), a check with 1,000 B segments
    and ``retention.bytes`` 1,000 cuts the log to 2,000: all of it copied, nothing
    lost, and the copy stays at 2,500."""
    site = make(segment_bytes=1000, retention_bytes=1000)
    site.advance(1.5)
    site.set_link(UP)
    site.advance(3.5)
    assert site.retention_check() == 0.0
    assert state(site) == (3.5, 2000.0, 3500.0, 2500.0, "caught", None)
    assert site.lost_retention == 0.0


def test_a_response_in_flight_was_read_and_the_rest_of_a_deletion_is_lost_when_it_drops():
    """Caught up from 1 s (the copy 1 s behind), cut at 3.5 s with the copy at 2,500;
    back at 8 s, a response of 6,000 B (to 8,500) is sent. At 8.5 s retention (1,000 B
    segments, ``retention.bytes`` 1,000) cuts the log to 7,000: the response had read
    past it, so nothing is lost yet. The link going down then drops the response: what
    was deleted of it, 2,500 to 7,000, is lost, and the fetcher resumes at 7,000."""
    site = make(segment_bytes=1000, retention_bytes=1000)
    site.set_link(UP)
    assert (site.regime, site.next_change()) == ("ahead", 1.0)
    site.advance(1.0)
    site.advance(3.5)
    assert state(site) == (3.5, 0.0, 3500.0, 2500.0, "caught", None)
    site.set_link(DOWN)
    site.advance(8.0)
    site.set_link(UP)
    assert site.response is not None and site.response.size == 6000.0
    site.advance(8.5)
    assert site.retention_check() == 0.0
    assert (site.start, site.position, site.lost_retention) == (7000.0, 2500.0, 0.0)
    site.set_link(DOWN)
    assert state(site) == (8.5, 7000.0, 8500.0, 7000.0, "stopped", None)
    assert site.lost_retention == 4500.0


def test_a_deletion_past_a_response_in_flight_counts_at_the_check_and_at_the_drop():
    """The link comes up at 29.5 s: a response of 6,000 B from 0. At 30 s retention cuts
    the log to 29,000: 23,000 B beyond the response are lost at the check; the
    response is dropped by a change of link, losing its 6,000 B too."""
    site = make(segment_bytes=1000, retention_bytes=1000)
    site.advance(29.5)
    site.set_link(UP)
    site.advance(30.0)
    assert site.retention_check() == 23_000.0
    assert (site.start, site.position, site.response is not None) == (29_000.0, 0.0, True)
    site.set_link(SLOW)
    assert site.lost_retention == 29_000.0
    assert state(site) == (30.0, 29_000.0, 30_000.0, 29_000.0, "ahead", None)


def test_a_response_landing_behind_the_log_start_moves_the_fetcher_to_it():
    """As above, but the response lands at 30.5 s: its 6,000 B are copied, and the
    fetcher resumes at the log start, 29,000, then 1,500 behind a head of 30,500:
    caught up, the copy jumps to 29,500."""
    site = make(segment_bytes=1000, retention_bytes=1000)
    site.advance(29.5)
    site.set_link(UP)
    site.advance(30.0)
    site.retention_check()
    site.advance(30.5)
    assert state(site) == (30.5, 29_000.0, 30_500.0, 29_500.0, "caught", None)
    assert (site.replicated, site.lost_retention) == (6500.0, 23_000.0)


# --- faults ---------------------------------------------------------------------------
def test_the_log_is_lost_once_as_many_brokers_as_the_replication_factor_are():
    """Five brokers, replication factor 3, caught up 1 s behind: two lost keep the
    log (three left, producing); a third takes the last replica (the model places
    replicas on the brokers lost first), and the 1,000 B not copied with it."""
    site = make(brokers=5, replication_factor=3, min_insync=2)
    site.set_link(UP)
    site.advance(1.0)
    site.advance(5.0)
    assert site.lose_brokers(2) == 0.0
    assert (site.alive, site.brokers_lost, site.producing()) == (True, 2, True)
    assert site.lose_brokers(1) == 1000.0
    assert (site.alive, site.lost_failure) == (False, 1000.0)


def test_losing_all_replicas_loses_what_was_not_copied_a_response_in_flight_included():
    """Caught up at 5 s, 1,000 B behind: cut at 5 s, back at 10 s with a response of
    6,000 B in flight when all three brokers go at 10.5 s: the 5,500 B past the copy
    are lost, and the site is down until rebuilt."""
    site = make()
    site.advance(1.5)
    site.set_link(UP)
    site.advance(5.0)
    site.set_link(DOWN)
    site.advance(10.0)
    site.set_link(UP)
    assert site.response is not None
    site.advance(10.5)
    assert site.lose_brokers(2) == 0.0
    assert site.lose_brokers(5) == 6500.0        # capped at the site's 3 brokers
    assert (site.brokers_lost, site.alive, site.lost_failure) == (3, False, 6500.0)
    assert state(site) == (10.5, 0.0, 0.0, 0.0, "stopped", None)
    assert not site.producing() and site.snapshot()["alive"] is False
    site.set_link(SLOW)
    assert site.regime == "stopped"


def test_rebuilding_a_site_that_lost_brokers_but_not_its_log_only_restores_them():
    site = make()
    site.advance(2.0)
    site.lose_brokers(2)
    assert not site.producing()
    site.advance(4.0)
    site.rebuild()
    assert (site.brokers_lost, site.life_start, site.head, site.producing()) == (
        0, 0.0, 2000.0, True)


def test_a_rebuilt_site_keeps_the_newest_copied_record_until_it_copies_again():
    """Caught up 1 s behind, destroyed at 5 s (the central copy's newest record from
    4 s), rebuilt at 8 s, the link up: nothing of the new life is 2 cycles behind until
    a second later; at 9 s the copy is exactly at its target (0): still 4 s."""
    site = make()
    site.advance(1.5)
    site.set_link(UP)
    site.advance(5.0)
    assert site.newest == 4.0
    site.lose_brokers(3)
    site.advance(8.0)
    site.rebuild()
    assert (site.regime, site.newest) == ("ahead", 4.0)
    assert site.next_change() == 9.0
    site.advance(9.0)
    assert (site.regime, site.position, site.newest) == ("caught", 0.0, 4.0)
    site.advance(9.0)                         # a second step at the same instant
    assert site.newest == 4.0
    site.advance(10.0)
    assert (site.position, site.newest) == (1000.0, 9.0)


# --- what a fold needs ------------------------------------------------------------------
def test_a_caught_up_site_copies_at_its_produce_rate():
    site = make()
    site.advance(1.5)
    site.set_link(UP)
    assert site.snapshot() == {
        "copy_rate": RATE, "alive": True, "caught_up": True, "backlog": 1000.0,
        "backlog_rate": 0.0, "newest": 0.5, "newest_rate": 1.0, "replicated": 500.0,
        "throughput": RATE, "lost_retention": 0.0, "lost_failure": 0.0}


def test_a_site_waiting_ahead_is_caught_up_but_copies_nothing():
    site = make()
    site.set_link(UP)
    snap = site.snapshot()
    assert (snap["caught_up"], snap["copy_rate"], snap["backlog_rate"], snap["throughput"]) \
        == (True, 0.0, RATE, 0.0)


@pytest.mark.parametrize("rtt, throughput", [
    (1.0, 6000.0),      # 6,000 B over a 1 s cycle
    (0.5, 12_000.0),    # over 0.5 s
    (0.0, 0.0),         # a response landing at once has no rate
])
def test_a_response_in_flight_crosses_the_link_at_an_even_rate(rtt, throughput):
    """The site is 10,000 B behind, so the response is the budget, 6,000 B; the copy
    grows only when it lands."""
    site = make()
    site.advance(10.0)
    site.set_link(LinkNow("up", rtt=rtt, budget=6000))
    assert site.response is not None and site.response.size == 6000.0
    snap = site.snapshot()
    assert (snap["caught_up"], snap["copy_rate"], snap["backlog"], snap["backlog_rate"],
            snap["newest_rate"], snap["throughput"]) == (False, 0.0, 10_000.0, RATE, 0.0,
                                                         throughput)


def test_a_stopped_site_reports_its_losses():
    site = make(rate=2000.0, segment_bytes=1000, retention_bytes=1000, production_end=40)
    site.advance(30.0)
    site.retention_check()
    site.advance(35.0)
    site.lose_brokers(3)
    snap = site.snapshot()
    assert (snap["alive"], snap["caught_up"], snap["throughput"], snap["newest_rate"]) == (
        False, False, 0.0, 0.0)
    # at 30 s 60,000 B, 59,000 over the limit (59 segments): they go, unread; the
    # 11,000 B from there to the head at 35 s are lost with the brokers
    assert (snap["lost_retention"], snap["lost_failure"]) == (59_000.0, 11_000.0)


# --- the rounding tolerance -------------------------------------------------------------
# Positions are sums of rate x time; a comparison of two of them allows a billionth of
# the log (at least 1e-9 B) for rounding. At 1 B/s a step to t puts the head exactly at
# t, so the cases below sit on the tolerance's edge: 999.999999 + 999.999999e-9 is
# 1,000 exactly in binary floating point, as is 2.000000002 - 2.000000002e-9 = 2.
EDGE = 999.999999


def test_a_log_end_within_the_tolerance_of_a_segment_end_has_closed_it():
    """Out at ``EDGE`` (so not producing): its first 1,000 B segment counts as closed,
    and its newest record (1,000 s) expires 10 s later: the check at 1,010 s."""
    site = make(rate=1.0, segment_bytes=1000, retention_time=10.0, check_interval=5.0,
                production_end=2000.0)
    site.advance(EDGE)
    site.set_out(True)
    assert site.head == EDGE
    assert site.next_check() == 1010.0


def test_a_log_within_the_tolerance_of_a_segment_over_retention_bytes_is_over_it():
    """``retention.bytes`` 0 and 1,000 B segments: at ``EDGE`` the log counts as one
    whole segment over, so a check is due now (the next instant, 1,000 s, with checks
    every 5 s), and it deletes that segment."""
    site = make(rate=1.0, segment_bytes=1000, retention_bytes=0, check_interval=5.0,
                production_end=2000.0)
    site.advance(EDGE)
    site.set_out(True)
    assert site.next_check() == 1000.0
    assert site.retention_check() == 1000.0 and site.start == 1000.0


def test_a_log_end_a_hundred_millionth_of_a_byte_short_of_a_segment_end_has_closed_it():
    """Short by 1e-8 B at 1,000 B, within the tolerance (1e-6 B there)."""
    site = make(rate=1.0, segment_bytes=1000, retention_bytes=0, production_end=2000.0)
    site.advance(1000.0 - 1e-8)
    assert site.retention_check() == 1000.0


def test_a_copy_within_the_tolerance_of_two_cycles_behind_is_caught_up():
    """At 1 B/s over ``UP`` two caught-up cycles are 2 B: a copy 2.000000002 B behind
    (2 B and the tolerance) is caught up, and jumps to 1 s behind the head."""
    site = make(rate=1.0)
    site.advance(2.000000002)
    site.set_link(UP)
    assert (site.regime, site.response, site.position) == ("caught", None, 2.000000002 - 1.0)


def test_a_response_lands_at_a_step_a_nanosecond_before_its_time():
    site = make()
    site.advance(10.0)
    site.set_link(UP)
    site.advance(11.0 - 1e-9)
    assert site.response is not None and site.position == 6000.0


def test_a_deletion_of_under_a_byte_is_still_a_loss():
    """Caught up 1 s behind from 1.5 s, at 2 - 2^-12 s the copy is at 999.755859375 B
    when a check (``retention.bytes`` 500: 1,499.76 B over, one whole segment) deletes
    the first 1,000 B segment: 0.244140625 B are lost and the fetcher resumes at 1,000,
    ahead of its target."""
    site = make(segment_bytes=1000, retention_bytes=500)
    site.advance(1.5)
    site.set_link(UP)
    site.advance(2 - 2**-12)
    assert site.retention_check() == 0.244140625
    assert (site.lost_retention, site.position, site.regime) == (0.244140625, 1000.0, "ahead")


def test_a_site_destroyed_with_everything_copied_loses_nothing():
    site = make(production_end=2.0)
    site.advance(1.5)
    site.set_link(UP)
    site.advance(2.0)
    site.set_link(UP)          # production over: the last 1,000 B are fetched
    site.advance(3.0)
    assert (site.position, site.head) == (2000.0, 2000.0)
    assert site.lose_brokers(3) == 0.0 and site.lost_failure == 0.0


@pytest.mark.parametrize("head, deleted, seg_base", [
    # short by more than 1e-9 B: not yet a whole segment, so the active one goes
    # (to the head) and the next rolls from there
    (1 - 1.5e-9, 1 - 1.5e-9, 1 - 1.5e-9),
    (1 - 0.5e-9, 1.0, 0.0),    # within 1e-9 B of it: one closed segment
])
def test_below_a_byte_the_tolerance_is_a_billionth_of_a_byte(head, deleted, seg_base):
    """1 B/s and ``segment.ms`` 1 s: segments of 1 B; ``retention.bytes`` 0."""
    site = make(rate=1.0, segment_bytes=14, segment_time=1.0, retention_bytes=0)
    assert site.segment == 1.0
    site.advance(head)
    assert site.retention_check() == deleted
    assert site.seg_base == seg_base


def test_a_site_rebuilt_after_production_ended_keeps_the_newest_copied_record():
    """Caught up 1 s behind, destroyed at 4 s (the newest copied record from 3 s),
    rebuilt at 6 s after production ended (5 s): an empty log with nothing to copy,
    so the newest copied record stays the one from 3 s."""
    site = make(production_end=5.0)
    site.advance(1.5)
    site.set_link(UP)
    site.advance(4.0)
    assert site.newest == 3.0
    site.lose_brokers(3)
    site.advance(5.0)
    site.advance(6.0)
    site.rebuild()
    assert (site.regime, site.producing()) == ("caught", False)
    site.advance(7.0)
    assert (site.position, site.newest) == (0.0, 3.0)


@pytest.mark.parametrize("short, deleted", [
    (1e-6, 1000.0),    # within the tolerance (2e-6 B at 2,000 B) of a segment over
    (3e-6, 0.0),       # beyond it
])
def test_the_tolerance_of_retention_bytes_is_a_billionth_of_the_whole_log(short, deleted):
    """Two partitions of 500 B segments, ``retention.bytes`` 500 each: a check deletes
    a round once the log holds 2 x (500 + 500) = 2,000 B, to within 1e-9 of the log
    (1e-6 B a partition)."""
    site = make(rate=1.0, partitions=2, segment_bytes=500, retention_bytes=500)
    site.advance(2000.0 - short)
    assert site.retention_check() == deleted
