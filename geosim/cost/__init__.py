"""The cost model: a run's measured usage and a described deployment priced as a monthly
bill, every price traceable to its source (README, "Cost").

Modules, one concept each: :mod:`~geosim.cost.prices` (the price book; its file is read
and checked by :mod:`geosim.scenario.price_books`), :mod:`~geosim.cost.deployment` (what
is deployed), :mod:`~geosim.cost.rules` (what a provider bills), :mod:`~geosim.cost.usage`
(what a run used), :mod:`~geosim.cost.bill` (the priced lines) and
:mod:`~geosim.cost.from_run` (windows of a run).
"""

from geosim.cost.bill import MONTH_SECONDS, Bill, Line, compute_bill
from geosim.cost.deployment import Deployment, InstanceGroup, resolve_deployment
from geosim.cost.prices import PriceBook, load_price_book
from geosim.cost.usage import Usage
from geosim.scenario.price_books import PriceError

__all__ = ["MONTH_SECONDS", "Bill", "Deployment", "InstanceGroup", "Line", "PriceBook",
           "PriceError", "Usage", "compute_bill", "load_price_book", "resolve_deployment"]
