"""Max-rate runs: OMB's rate controller, finding the highest sustainable publish rate.

With ``producerRate: 0`` (or ``workload.max_rate: true``) OMB does not offer a fixed
rate: it starts at 10,000 messages/s (or the given rate) and every 3 s asks its
``RateController`` for the next one (openmessaging/benchmark,
``benchmark-framework/.../WorkloadGenerator.java`` ``findMaximumSustainableRate``,
``RateController.java`` ``nextRate``):

* ``expected`` = rate x period; ``published`` and ``received`` = messages acknowledged
  to the producers and received by the consumers in the period.
* If the receive backlog (all messages published minus all received) exceeds
  ``RECEIVE_BACKLOG_LIMIT`` (1,000), or else the publish backlog (expected minus
  published) exceeds ``PUBLISH_BACKLOG_LIMIT`` (1,000), the ramping factor halves (not
  below 0.01) and the next rate is min(the period's actual rate, (expected - backlog) /
  period).
* Otherwise the factor doubles (at most 1) and the rate grows by that factor.

Published counts acks (OMB's ``MessageProducer`` records a success in the send's
completion callback); received counts every consumer's records, summed over
subscriptions, as OMB's ``messagesReceived`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from geosim.core.events import Delivered, ProduceAcked, RateAdjusted, Recorder

#: OMB's defaults (RateController's environment variables, WorkloadGenerator's period).
START_RATE = 10_000.0
CONTROL_PERIOD = 3.0
PUBLISH_BACKLOG_LIMIT = 1_000
RECEIVE_BACKLOG_LIMIT = 1_000
MIN_RAMPING_FACTOR = 0.01
MAX_RAMPING_FACTOR = 1.0


class RateController:
    """OMB's ``RateController``: the next rate from one period's counts (pure)."""

    def __init__(self) -> None:
        self.ramping_factor = MAX_RAMPING_FACTOR
        self._published = 0
        self._received = 0

    def next_rate(self, rate: float, period: float, total_published: int,
                  total_received: int) -> float:
        expected = int(rate * period)
        published = total_published - self._published
        received = total_received - self._received
        self._published = total_published
        self._received = total_received
        receive_backlog = total_published - total_received
        if receive_backlog > RECEIVE_BACKLOG_LIMIT:
            return self._back_off(period, received, expected, receive_backlog)
        publish_backlog = expected - published
        if publish_backlog > PUBLISH_BACKLOG_LIMIT:
            return self._back_off(period, published, expected, publish_backlog)
        self.ramping_factor = min(MAX_RAMPING_FACTOR, self.ramping_factor * 2)
        return rate + rate * self.ramping_factor

    def _back_off(self, period: float, actual: int, expected: int, backlog: int) -> float:
        self.ramping_factor = max(MIN_RAMPING_FACTOR, self.ramping_factor / 2)
        next_expected = max(0, expected - backlog)
        return min(actual / period, next_expected / period)


class RateControl:
    """The controller as a process over a run's fleets (OMB's background thread).

    ``fleets()`` gives the live producer fleets at each period; each gets the total rate
    times its share of the workload (its placement's share, fixed at the start).
    """

    def __init__(self, env, recorder: Recorder, fleets: Callable[[], list],
                 start_rate: float, stop: float, period: float = CONTROL_PERIOD):
        self.env = env
        self.recorder = recorder
        self.fleets = fleets
        self.rate = start_rate
        self.stop = stop
        self.period = period
        self.controller = RateController()
        self.published = 0
        self.received = 0
        total = sum(f.records_per_s for f in fleets()) or 1.0
        self._share = {f.zone: f.records_per_s / total for f in fleets()}
        recorder.subscribe(ProduceAcked, self._on_acked)
        recorder.subscribe(Delivered, self._on_delivered)

    def _on_acked(self, ev: ProduceAcked) -> None:
        self.published += sum(row.records for row in ev.rows)

    def _on_delivered(self, ev: Delivered) -> None:
        self.received += sum(row.records for row in ev.rows)

    def start(self) -> None:
        self.env.process(self._run())

    def _run(self):
        """Every ``period`` until production ends: the next rate from the period's acks
        and deliveries, applied to every fleet at once; emits ``RateAdjusted``."""
        env = self.env
        while env.now + self.period <= self.stop:
            yield env.timeout(self.period)
            self.rate = max(self.controller.next_rate(self.rate, self.period,
                                                      self.published, self.received), 1.0)
            for fleet in self.fleets():
                fleet.set_rate(self.rate * self._share.get(fleet.zone, 0.0))
            self.recorder.emit(RateAdjusted(env.now, self.rate, self.published,
                                            self.received))


__all__ = ["CONTROL_PERIOD", "START_RATE", "RateControl", "RateController"]
