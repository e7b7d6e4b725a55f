"""Counterexamples: the shrunk failing scenario, written as a file ``geosim run`` replays.

The file is the generated scenario data itself (short units, only the fields the
generators set), with its seed in ``simulation.seed``, under a comment header naming the
claim, the violation, an account of the run and the command that replays it. Runs are
deterministic — the same scenario and seed give a byte-identical ``summary.json`` — so
``geosim run FILE`` reproduces the violation exactly. Before returning, the writer
reloads the file and checks it describes the same scenario it ran.

Files go to ``directory``, else ``$GEOSIM_COUNTEREXAMPLES``, else
``results/counterexamples/`` under the working directory, named
``<claim>-<hash of the content>.yaml``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

import geosim
from geosim.scenario.loader import load_scenario, scenario_from_dict
from geosim.testing.claims import Claim, Violation

ENV_VAR = "GEOSIM_COUNTEREXAMPLES"
DEFAULT_DIR = Path("results") / "counterexamples"


@dataclass(frozen=True)
class Counterexample:
    """A shrunk failing example, its file, and how long the search took to find it."""

    path: Path
    seed: int
    violation: Violation
    explanation: str
    data: dict
    examples_to_find: int
    seconds_to_find: float
    seconds_total: float

    @property
    def command(self) -> str:
        """The command line that replays it."""
        return replay_command(self.path, self.seed)

    def __str__(self) -> str:
        return (f"counterexample to {self.violation.claim}: {self.violation.reason}\n"
                f"{self.explanation}\nwritten to {self.path}\nreplay: {self.command}\n"
                f"found after {self.examples_to_find} examples in "
                f"{self.seconds_to_find:.1f} s (with shrinking: {self.seconds_total:.1f} s)")


def counterexample_dir(directory: str | Path | None = None) -> Path:
    """Where counterexample files go (see the module docstring)."""
    if directory is not None:
        return Path(directory)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def slug(text: str) -> str:
    """``text`` reduced to a file- and scenario-name-safe slug."""
    text = text.replace("<=", "-le-").replace(">=", "-ge-").replace("+", "-and-")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "claim"


def replay_command(path: str | Path, seed: int) -> str:
    return f"geosim run {path} --seed {seed}"


def as_written(data: dict, claim: Claim) -> dict:
    """Scenario ``data`` as a counterexample file holds it: with a description."""
    return {"name": data["name"], "description": f"Counterexample to: {claim.text}.",
            **{k: v for k, v in data.items() if k not in ("name", "description")}}


def write_counterexample(data: dict, claim: Claim, violation: Violation, explanation: str,
                         directory: str | Path | None = None,
                         filename: str | None = None) -> Path:
    """Write scenario ``data`` that violated ``claim`` as a replayable file; its path.

    ``data`` is written as it ran (its name too: the name is part of the summary). The
    file is ``filename`` in the directory, by default ``<claim>-<content hash>.yaml``.
    """
    data = as_written(data, claim)
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    seed = data["simulation"]["seed"]
    digest = hashlib.sha256(body.encode()).hexdigest()[:10]
    folder = counterexample_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{slug(claim.name)}-{digest}.yaml")
    comment = "\n".join(f"#   {line}" for line in explanation.splitlines())
    header = (f"# geosim counterexample to the claim {claim.name!r}: {claim.text}\n"
              f"# violation: {violation.reason}\n# the run:\n{comment}\n"
              f"# replay: {replay_command(path, seed)}\n")
    path.write_text(header + body)
    if load_scenario(path) != scenario_from_dict(data):
        raise AssertionError(f"{path}: the written counterexample does not reload to the "
                             f"scenario that ran")  # pragma: no cover - a writer bug
    return path


def replay(path: str | Path, seed: int | None = None,
           out_dir: str | Path | None = None) -> dict:
    """Run a scenario file through the ``geosim`` command line; its ``summary.json``.

    Runs ``python -m geosim.cli run FILE --seed N --quiet --out DIR`` in a new process,
    with this geosim first on the path, exactly as a user would replay it.
    """
    import json

    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="geosim-"))
    command = [sys.executable, "-m", "geosim.cli", "run", str(path), "--quiet", "--out",
               str(out)]
    if seed is not None:
        command += ["--seed", str(seed)]
    env = dict(os.environ)
    root = str(Path(geosim.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): "
                           f"{done.stderr.strip()}")
    return json.loads((out / "summary.json").read_text())
