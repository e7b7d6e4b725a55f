"""``geosim calibrate``: fit declared free parameters to observed figures.

:mod:`~geosim.calibrate.targets` reads the targets file; :mod:`~geosim.calibrate.fit`
runs the search with common random numbers. The fit is written as an overlay file the
user applies with ``--overlay``; calibration never changes a default.
"""

from geosim.calibrate.fit import Evaluation, Fit, fit, overlay_items
from geosim.calibrate.targets import Observed, Parameter, Targets, load_targets

__all__ = ["Evaluation", "Fit", "Observed", "Parameter", "Targets", "fit", "load_targets",
           "overlay_items"]
