"""Check that no module of geosim imports another package's private names.

A name is private when it starts with one underscore (``_load``; dunders such as
``__version__`` are public). A private name, or a private module (``geosim.x._impl``),
belongs to the package that defines it (a module directly in ``geosim/``, such as
``geosim/runner.py``, counts as a package of its own): importing it from a module of
another package is an error, printed as ``file:line: message``. Inside one package,
and its sub-packages, it is allowed.

::

    python tools/check_private_imports.py [ROOT ...]      # default: geosim

Exit status 1 if anything was found. import-linter's ``private_modules`` contract covers
private modules; only this script sees private names, hence both (pyproject.toml).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path


def is_private(name: str) -> bool:
    """``_name`` is private; ``__dunder__`` and ``name`` are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def module_name(path: Path, base: Path) -> str:
    """The dotted name of the module in ``path``, relative to the directory ``base``."""
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def owner(module: str, base: Path) -> str:
    """The package that owns ``module``'s names: itself if a package, else its parent,
    except that a module directly in the root package (``geosim.runner``) owns its own.

    Within a dotted name, the first private component makes everything below it private
    to the package above it: ``geosim.x._impl.y`` is owned by ``geosim.x``.
    """
    parts = module.split(".")
    for index, part in enumerate(parts):
        if is_private(part):
            return ".".join(parts[:index])
    if (base.joinpath(*parts) / "__init__.py").is_file() or len(parts) <= 2:
        return module
    return ".".join(parts[:-1])


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(path: Path, base: Path, root: str) -> Iterator[tuple[int, str]]:
    """``(line, message)`` for each import in ``path`` of another package's private name.

    ``base`` is the directory holding the package ``root``; imports of other top-level
    packages (the standard library, third parties) are not checked.
    """
    importer = module_name(path, base)
    is_package = path.name == "__init__.py"
    importer_package = importer if is_package else importer.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        targets: list[tuple[str, str | None]]  # (module, imported name or None)
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importer's package
                anchor = importer_package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                source = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            targets = [(source, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            if module.split(".")[0] != root:
                continue
            if name is not None and is_private(name):
                package = owner(module, base)
                if not inside(importer, package):
                    yield node.lineno, (f"imports the private name {name!r} of {module} "
                                        f"(private to {package})")
            elif any(is_private(part) for part in module.split(".")):
                package = owner(module, base)
                if not inside(importer, package):
                    yield node.lineno, (f"imports the private module {module} "
                                        f"(private to {package})")


def main(argv: list[str]) -> int:
    roots = [Path(arg).resolve() for arg in argv] or [Path("geosim").resolve()]
    cwd = Path.cwd()
    found = 0
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for line, message in violations(path, root.parent, root.name):
                shown = path.relative_to(cwd) if path.is_relative_to(cwd) else path
                print(f"{shown}:{line}: {message}")
                found += 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
