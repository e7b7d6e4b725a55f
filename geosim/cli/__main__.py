"""``python -m geosim.cli``: the ``geosim`` command, as ``python -m geosim`` (kept for the
counterexample replays of :mod:`geosim.testing.counterexamples`, which run it)."""

import sys

from geosim.cli import main

sys.exit(main())
