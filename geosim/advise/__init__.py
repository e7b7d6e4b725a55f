"""``geosim advise``: the cheapest design that meets a set of objectives, with evidence.

From a scenario (topology, workload) and an objectives file (failures to survive,
limits, the knobs that may vary), search the designs, evaluate each with geosim runs
over the failures and several seeds, and report the Pareto front of cost, RPO and p99,
the cheapest feasible design per strategy with its margins, and the winner, which a
property search tries to break. See docs/advise.md.

Modules, one concept each: :mod:`~geosim.advise.objectives` (the file and its checks),
:mod:`~geosim.advise.space` (candidates and their scenarios),
:mod:`~geosim.advise.evaluate` (runs, screening, the cache),
:mod:`~geosim.advise.verdict` (measures, margins, the binding constraint),
:mod:`~geosim.advise.search` (NSGA-II or the grid), :mod:`~geosim.advise.pareto`,
:mod:`~geosim.advise.robustness` (the property search), :mod:`~geosim.advise.report`
and :mod:`~geosim.advise.advisor` (the whole).

>>> from geosim.advise import advise, load_objectives           # doctest: +SKIP
>>> advice = advise("scenarios/advise-small.yaml",
...                 load_objectives("scenarios/objectives/advise-small.yaml"),
...                 "results/advise-small/advise")
>>> advice.frame                                               # a DataFrame per design
"""

from geosim.advise.advisor import Advice, advise
from geosim.advise.evaluate import Evaluation
from geosim.advise.objectives import Objectives, load_objectives, objectives_from_dict

__all__ = ["Advice", "Evaluation", "Objectives", "advise", "load_objectives",
           "objectives_from_dict"]
