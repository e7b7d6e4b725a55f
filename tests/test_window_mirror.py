"""The window engine's flow kernel (geosim.kafka.window.mirror) against the event engine.

Started from the same running cross-cluster run, the flow's kernel over the source
window's rows and the event engine must agree on how long a record takes from its send
to its copy's acknowledgement in the target (the flow's acknowledged position passing
it), on the records copied and on the bytes each purpose moves. The tolerance (3% at p50
and p90, 5% at p99) is several times the differences measured on these cases (at most
0.8%)."""

from __future__ import annotations

import numpy as np
import pytest
from window_cases import SETTLE, T0, T1, TAIL, started

from geosim.core.events import MirrorCopied, ProduceAcked
from geosim.kafka.window.kernel import run_window
from geosim.kafka.window.mirror import FlowWiring, run_mirror
from geosim.kafka.window.wiring import WindowRefused, Wiring
from geosim.metrics.histogram import LatencyHistogram


def _kernel(engine, *, tail=TAIL, seed=0):
    flow = engine.flows[0]
    source = Wiring.of(flow.source, alone=False)
    wiring = FlowWiring.of(flow, source)
    window = run_window(source, T0, T1, measure_from=T0 + SETTLE, tail=tail, seed=seed)
    return window, run_mirror(wiring, window, T0, T1 + tail, seed=seed + 1)


def _event_engine(ctx, flow) -> tuple[LatencyHistogram, int]:
    """The event engine from T0: the records sent in [T0 + SETTLE, T1) and copied, and
    the time from their send to the flow's acknowledged position passing them."""
    lo = T0 + SETTLE
    copied: dict[int, list[tuple[int, float]]] = {}
    rows = []

    def on_copied(ev):
        if ev.flow == flow.name:
            copied.setdefault(ev.partition, []).append((ev.upstream_end, ev.t))

    def on_acked(ev):
        for r in ev.rows:
            if r.mirror < 0 and lo <= r.send_last < T1:
                rows.append(r)

    ctx.recorder.subscribe(MirrorCopied, on_copied)
    ctx.recorder.subscribe(ProduceAcked, on_acked)
    ctx.env.run(until=T1 + TAIL)
    hist, records = LatencyHistogram(), 0
    for r in rows:
        end = r.offset + r.records
        t = next((t for u, t in copied.get(r.partition, []) if u >= end), None)
        if t is not None:
            hist.add_uniform(t - r.send_last, t - r.send_first, r.records)
            records += r.records
    return hist, records


@pytest.mark.parametrize("case", [
    ("mm2-active-passive",),
    ("cluster-linking-active-passive",),
    # each partition's share of consumer.fetch.max.bytes binds now and then
    ("mm2-active-passive", "strategy.mirror_config={consumer.fetch.max.bytes: 40000}"),
    ("mm2-active-passive", "workload.omb.producerRate=50000"),
])
def test_the_flow_kernel_agrees_with_the_event_engine(case):
    ctx, engine = started(*case)
    window, mirror = _kernel(engine)
    theirs, records = _event_engine(ctx, engine.flows[0])
    assert records > 0
    assert window.row_last is not None and window.row_first is not None
    assert window.row_records is not None and mirror.copied is not None
    sel = (window.row_last >= T0 + SETTLE) & np.isfinite(mirror.copied)
    ours = LatencyHistogram()
    ours.add_uniform_many(mirror.copied[sel] - window.row_last[sel],
                          mirror.copied[sel] - window.row_first[sel],
                          window.row_records[sel])
    assert int(window.row_records[sel].sum()) == pytest.approx(records, rel=1e-3)
    for q, tol in ((0.5, 0.03), (0.9, 0.03), (0.99, 0.05)):
        assert ours.quantile(q) == pytest.approx(theirs.quantile(q), rel=tol), (q, case)


def test_the_flow_kernel_counts_the_bytes_the_event_engine_sends():
    """Mirror bytes (fetch requests, responses, copies) and the target's replication
    within 2% of what the event engine's network counted over the same time."""
    ctx, engine = started("mm2-active-passive")
    net = engine.net
    before = dict(net.bytes)
    window, mirror = _kernel(engine, tail=0.0)
    ctx.env.run(until=T1)
    after = net.bytes
    target_zones = set(engine.world.topology.zones(engine.flows[0].target.region))
    for purpose in ("mirror", "replicate", "produce"):
        theirs = sum(v - before.get(k, 0) for k, v in after.items() if k[2] == purpose)
        ours = sum(v for k, v in (*window.bytes.items(), *mirror.bytes.items())
                   if k[2] == purpose)
        assert ours == pytest.approx(theirs, rel=0.02), purpose
    # the target's replication is the kernel's own part of it
    assert any(k[2] == "replicate" and k[0] in target_zones for k in mirror.bytes)


def test_a_flow_window_is_a_function_of_its_seed():
    _ctx, engine = started("mm2-active-passive")
    _w, a = _kernel(engine, seed=3)
    _w, b = _kernel(engine, seed=3)
    _w, c = _kernel(engine, seed=5)
    assert np.array_equal(a.copied, b.copied) and a.bytes == b.bytes
    assert not np.array_equal(a.copied, c.copied)


def test_a_flow_window_refuses_a_target_with_clients_and_a_filtering_flow():
    _ctx, engine = started("mm2-active-active")
    flow = engine.flows[0]
    with pytest.raises(WindowRefused, match="clients of its own"):
        FlowWiring.of(flow, Wiring.of(flow.source, alone=False))
    _ctx, engine = started("replicator-active-passive")
    flow = engine.flows[0]
    with pytest.raises(WindowRefused, match="filters what it copies"):
        FlowWiring.of(flow, Wiring.of(flow.source, alone=False))


def test_a_cluster_of_several_needs_its_flows():
    _ctx, engine = started("mm2-active-passive")
    with pytest.raises(WindowRefused, match="one of several"):
        Wiring.of(engine.flows[0].source)
