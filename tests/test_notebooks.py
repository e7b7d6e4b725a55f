"""The notebooks in notebooks/ run clean, in a kernel importing geosim from this tree.

A cell that raises fails the test (nbclient's CellExecutionError names the cell). The
notebooks write their results under ``GEOSIM_NOTEBOOK_OUT``, pointed at a temporary
directory here.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: Where to keep the executed notebooks' images for inspection (unset: not kept).
KEEP_IMAGES = os.environ.get("GEOSIM_NOTEBOOK_IMAGES")


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01-quickstart.ipynb",
                                           "02-compare-region-outage.ipynb",
                                           "03-rpo-vs-replication-sla.ipynb",
                                           "04-advise.ipynb",
                                           "05-edge-fleet.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("GEOSIM_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("GEOSIM_NOTEBOOK_SEEDS", "1")  # one seed per sweep point: fast
    monkeypatch.setenv("GEOSIM_NOTEBOOK_VARIANTS", "diskless-bucket,diskless-quorum")
    monkeypatch.setenv("GEOSIM_NOTEBOOK_SEVEN", "replicator,shared-storage")
    monkeypatch.setenv("GEOSIM_NOTEBOOK_SEVEN_SET", "simulation.duration=40s;"
                       "simulation.drain=10s;faults[0].at=15s;faults[0].duration=15s")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import geosim; print(geosim.__file__)"))
    client = nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()

    where = notebook.cells[-1].outputs[0]["text"].strip()
    assert Path(where).resolve().is_relative_to(REPO), where
    images = [output["data"]["image/png"] for cell in notebook.cells
              if cell.cell_type == "code" for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    plot_cells = [c for c in notebook.cells if c.cell_type == "code" and any(
        name in c.source.splitlines()[-1] for name in ("timeline(", "latency_cdf(",
                                                       "bytes_by_", "chart(", "comparison(",
                                                       "metric_vs_factor(",
                                                       "advise_front(", "advice_map(",
                                                       "edge_sites("))]
    # every plot cell shows its figure (the stretch timeline is skipped here)
    skipped = sum('if "stretch" in results' in c.source for c in plot_cells)
    assert len(images) == len(plot_cells) - skipped >= 2
    assert any(tmp_path.iterdir())  # results went where they were told to
    if KEEP_IMAGES:
        keep = Path(KEEP_IMAGES)
        keep.mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(images):
            (keep / f"{path.stem}-{index}.png").write_bytes(base64.b64decode(image))


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python API example, executed as written from a scratch directory."""
    text = (REPO / "README.md").read_text()
    start = text.index("```python\nimport geosim\n") + len("```python\n")
    code = text[start:text.index("```", start)]
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own docs)
    table = namespace["table"]
    assert len(table) == 4 and set(table["status"]) == {"ok"}
    assert namespace["saved"].summary == namespace["result"].summary
