"""tools/check_private_imports.py: private names and modules imported across packages are
reported as file:line; within a package, dunders and other top-level packages are not."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_private_imports",
                                              REPO / "tools" / "check_private_imports.py")
checker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checker)


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "pkg"


def test_reports_private_imports_across_packages(tmp_path, monkeypatch, capsys):
    tree(tmp_path, {
        "pkg/__init__.py": "__version__ = '1'\n_root_private = 1\n",
        "pkg/top.py": "_helper = 1\n",
        "pkg/a/__init__.py": "",
        "pkg/a/store.py": "_make = 1\npublic = 2\n",
        "pkg/a/_impl.py": "x = 1\n",
        "pkg/a/user.py": """\
            from pkg.a.store import _make          # same package: allowed
            from ._impl import x                   # same package, relative: allowed
            from pkg import __version__            # a dunder: public
            from os import _exit                   # another top-level package: not checked
            """,
        "pkg/b/__init__.py": "",
        "pkg/b/user.py": """\
            from pkg.a.store import public, _make
            import pkg.a._impl
            from pkg.a import _impl
            from pkg.top import _helper
            from ..a.store import _make as again
            from pkg import _root_private          # the root's own: every package's
            """,
    })
    monkeypatch.chdir(tmp_path)
    assert checker.main(["pkg"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "pkg/b/user.py:1: imports the private name '_make' of pkg.a.store (private to pkg.a)",
        "pkg/b/user.py:2: imports the private module pkg.a._impl (private to pkg.a)",
        "pkg/b/user.py:3: imports the private name '_impl' of pkg.a (private to pkg.a)",
        "pkg/b/user.py:4: imports the private name '_helper' of pkg.top (private to pkg.top)",
        "pkg/b/user.py:5: imports the private name '_make' of pkg.a.store (private to pkg.a)",
    ]


def test_clean_tree_passes(tmp_path, monkeypatch, capsys):
    tree(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from pkg.b import name\n",
                    "pkg/b.py": "name = 1\n"})
    monkeypatch.chdir(tmp_path)
    assert checker.main(["pkg"]) == 0
    assert capsys.readouterr().out == ""
