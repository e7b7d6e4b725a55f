"""Running one scenario with a progress bar on stderr, shown only once a run is slow."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

#: Wall seconds a run must last before its progress bar appears.
PROGRESS_DELAY_S = 2.0


class ProgressBar:
    """A progress callback that shows a tqdm bar (simulated seconds) once a run is slow.

    The bar is created lazily, on the first call after ``delay_s`` wall seconds, so
    short runs print nothing.
    """

    def __init__(self, stream: TextIO, delay_s: float = PROGRESS_DELAY_S,
                 clock: Callable[[], float] = time.monotonic):
        self._stream = stream
        self._delay_s = delay_s
        self._clock = clock
        self._started = clock()
        self.bar: Any = None

    def __call__(self, sim_now: float, sim_end: float) -> None:
        if self.bar is None:
            if self._clock() - self._started < self._delay_s:
                return
            from tqdm import tqdm

            # Not tqdm's own width detection: a pseudo-terminal without a size reports
            # 0 columns, and tqdm then draws nothing; shutil falls back to 80.
            self.bar = tqdm(total=round(sim_end, 3), unit="s", desc="simulated",
                            file=self._stream, leave=False,
                            ncols=shutil.get_terminal_size().columns,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}"
                                       " s [{elapsed}<{remaining}]")
        self.bar.update(max(0.0, round(sim_now, 3) - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_with_progress(scenario: Any, seed: int, show: bool, budget: Any = None,
                      subscribe: Any = None) -> Any:
    """Run a scenario, with a progress bar on stderr if ``show``; its Result. A run over
    its ``budget`` (:mod:`geosim.budget`) is a one-line user error; ``subscribe`` is
    passed to :func:`geosim.runner.run`."""
    from geosim.budget import BudgetExceeded
    from geosim.cli.common import UserError
    from geosim.runner import run

    progress = ProgressBar(sys.stderr, PROGRESS_DELAY_S) if show else None
    try:
        return run(scenario, seed, progress=progress, budget=budget, subscribe=subscribe)
    except BudgetExceeded as exc:
        raise UserError(f"{scenario.name}: {exc}") from None
    finally:
        if progress is not None:
            progress.close()
