"""``python -m geosim``: the ``geosim`` command."""

import sys

from geosim.cli import main

sys.exit(main())
