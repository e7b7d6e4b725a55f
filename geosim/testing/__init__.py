"""Property testing of geosim claims (issue 6): generators, claims, coverage, counterexamples.

A claim is checked over generated scenarios; geosim either gives confidence — the search
ran many examples and reached the interesting states the claim is about — or a
counterexample shrunk to a minimal scenario file that ``geosim run`` replays::

    from geosim.testing import diskless, no_acked_loss, region_faults, scenarios, verify

    def test_no_loss_in_any_single_region_outage():
        verify(no_acked_loss(),
               scenarios(diskless(bucket=["multi-region"]), faults=region_faults()),
               reach=["outage-in-replication-window"])

Modules: :mod:`~geosim.testing.generators` (Hypothesis strategies for scenarios),
:mod:`~geosim.testing.claims` (ready assertions on a run's summary),
:mod:`~geosim.testing.coverage` (probes of interesting states),
:mod:`~geosim.testing.counterexamples` (scenario files that replay a failure),
:mod:`~geosim.testing.search` (the drivers), :mod:`~geosim.testing.profiles`
(``geosim-ci`` and ``geosim-deep``) and :mod:`~geosim.testing.stateful` (a Hypothesis
state machine that produces, fails and heals regions step by step).
"""

from geosim.testing.claims import (
    Claim,
    Violation,
    claim,
    every_acked_delivered,
    every_send_settled,
    explain_run,
    no_acked_loss,
    no_duplicates,
    no_reorders,
    no_replication_loops,
    no_reprocessing_after_failover,
    no_skips,
    no_skips_after_failover,
    reads_available,
    reprocessing_below,
    rpo_below,
    rto_below,
    writes_available,
)
from geosim.testing.counterexamples import (
    Counterexample,
    counterexample_dir,
    replay,
    write_counterexample,
)
from geosim.testing.coverage import Coverage, Probe, probes_for, register_probe
from geosim.testing.generators import (
    LOSS_TICK,
    TRANSIENT_KINDS,
    around,
    configs,
    no_faults,
    region_faults,
    register_config_generator,
    scenarios,
    seeds,
    simulations,
    timelines,
    topologies,
    transient_faults,
    workloads,
    zone_faults,
)
from geosim.testing.profiles import (
    load_profile,
    register_profiles,
    simulation_examples,
    simulation_settings,
)
from geosim.testing.search import (
    ClaimFailed,
    CoverageNotReached,
    NoCounterexample,
    SearchReport,
    check,
    find_counterexample,
    run_example,
    search,
    verify,
)

__all__ = [
    "LOSS_TICK", "TRANSIENT_KINDS", "around", "simulation_examples", "simulation_settings",
    "transient_faults",
    "Claim", "ClaimFailed", "Counterexample", "Coverage", "CoverageNotReached",
    "NoCounterexample", "Probe", "SearchReport", "Violation", "check", "claim", "configs",
    "counterexample_dir", "every_acked_delivered", "every_send_settled",
    "explain_run", "find_counterexample", "load_profile", "no_acked_loss", "no_duplicates",
    "no_faults", "no_reorders", "no_skips", "probes_for", "reads_available",
    "region_faults", "register_config_generator", "register_probe", "register_profiles",
    "replay", "reprocessing_below", "rpo_below", "rto_below", "run_example", "scenarios",
    "search", "seeds", "simulations", "timelines", "topologies",
    "verify", "workloads",
    "write_counterexample", "writes_available", "zone_faults",
    "no_reprocessing_after_failover", "no_skips_after_failover", "no_replication_loops",
]


def _helpers() -> dict:
    """The strategy plug-ins' configuration helpers (``diskless``, ``stretch``,
    ``cross_cluster``...) by name (:attr:`StrategyPlugin.helpers`)."""
    from geosim.scenario.plugins import plugins

    return {path.rpartition(":")[2]: path for plugin in plugins().values()
            for path in plugin.helpers}


def __getattr__(name: str):
    """``geosim.testing.<helper>``: a strategy plug-in's configuration helper."""
    path = _helpers().get(name)
    if path is None:
        raise AttributeError(f"module 'geosim.testing' has no attribute {name!r}")
    from geosim.scenario.plugins import load_path
    return load_path(path)


def __dir__() -> list[str]:
    return sorted({*globals(), *_helpers()})
