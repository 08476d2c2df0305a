"""The import rule (docs/architecture.md), read from the source with ``ast``: nothing is imported.

- The leaves — ``io/``, ``config/``, ``data_contracts/``, ``money.py``, ``calendar.py``,
  ``grammar.py`` and ``workers.py`` — import nothing from the domain packages or the Dagster
  wiring above them.
- The pure code — the leaves and ``ingestion/``, ``billing/``, ``pricing/``, ``sla/`` — never
  imports dagster.
- Nothing imports the old ``transforms`` package or the root-level ``ingest`` module.

Both layer rules are checked on a module's own imports and on everything those imports run in
turn (the modules of this repository they import, with the packages' ``__init__`` files), so a
leaf cannot reach dagster through a module that is allowed to import it.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("meter_pipeline", "data_contracts", "tests", "bench")

#: The lower layers: they import nothing from ABOVE_LEAVES.
LEAVES = (
    "meter_pipeline.io",
    "meter_pipeline.config",
    "meter_pipeline.storage",
    "data_contracts",
    "meter_pipeline.money",
    "meter_pipeline.calendar",
    "meter_pipeline.grammar",
    "meter_pipeline.workers",
)
#: The domain packages and the Dagster wiring.
ABOVE_LEAVES = tuple(
    f"meter_pipeline.{name}"
    for name in (
        "ingestion",
        "billing",
        "sla",
        "pricing",
        "assets",
        "resources",
        "definitions",
        "schedules",
        "partitions",
        "checks",
        "runner",
        "cli",
        "demo",
        "demo_data",
        "verify",
        "finance",
        "whatif",
    )
)
#: Pure code: never imports dagster, directly or through what it imports.
PURE = (
    *LEAVES,
    "meter_pipeline.ingestion",
    "meter_pipeline.billing",
    "meter_pipeline.pricing",
    "meter_pipeline.sla",
    "meter_pipeline.finance",
)
#: Modules that are gone; nothing may import them (names after ``meter_pipeline.``).
REMOVED = ("transforms", "ingest")


@dataclass(frozen=True)
class Import:
    """One module name an import statement may load, with where it is written."""

    module: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def within(module: str, packages: tuple[str, ...]) -> bool:
    """``module`` is one of ``packages`` or inside one of them (``a.b`` is within ``a``)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def is_dagster(module: str) -> bool:
    top = module.split(".")[0]
    return top == "dagster" or top.startswith("dagster_")


@functools.cache
def modules() -> dict[str, Path]:
    """Every Python module of the repository by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    found: dict[str, Path] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imported_names(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The module names an import statement may load, relative imports resolved."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".")
            if not is_package:
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        yield base
        # ``from pkg import name`` loads ``pkg.name`` when that is a submodule.
        yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def relative(module: str) -> str:
    """The module's file, relative to the repository root."""
    return modules()[module].relative_to(REPO).as_posix()


@functools.cache
def syntax(module: str) -> ast.Module:
    path = modules()[module]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@functools.cache
def imports_of(module: str) -> tuple[Import, ...]:
    """Every import statement of a module (at any depth: functions, ``try`` blocks too)."""
    is_package = modules()[module].name == "__init__.py"
    return tuple(
        Import(name, relative(module), node.lineno)
        for node in ast.walk(syntax(module))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported_names(node, module, is_package)
        if name
    )


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _loaded(module: str) -> list[str]:
    """The repository modules that importing ``module`` runs first: its parent packages."""
    return [m for m in _parents(module) if m in modules()]


@functools.cache
def reach(module: str) -> dict[str, tuple[str, ...]]:
    """Every repository module that importing ``module`` runs, with the chain that gets there."""
    chains: dict[str, tuple[str, ...]] = {module: (module,)}
    todo = [module]  # breadth first: the chain reported is a shortest one
    while todo:
        current = todo.pop(0)
        next_modules = [*_loaded(current)]
        for imp in imports_of(current):
            if imp.module in modules():
                next_modules += [*_loaded(imp.module), imp.module]
        for nxt in next_modules:
            if nxt not in chains:
                chains[nxt] = (*chains[current], nxt)
                todo.append(nxt)
    return chains


def offending(module: str, forbidden: Callable[[str], bool]) -> list[Import]:
    """The module's own imports that load a forbidden module, one per statement (the most
    specific name: ``from a.b import c`` is reported as ``a.b.c`` when both are forbidden)."""
    by_line: dict[int, Import] = {}
    for imp in imports_of(module):
        known = by_line.get(imp.line)
        if forbidden(imp.module) and (known is None or len(imp.module) > len(known.module)):
            by_line[imp.line] = imp
    return [by_line[line] for line in sorted(by_line)]


def exits(module: str, scope: tuple[str, ...]) -> dict[str, str]:
    """The repository modules outside ``scope`` that importing ``module`` runs directly, each
    with why: an import statement of ``module``, or ``module`` being inside that package."""
    found = {
        parent: f"{relative(module)} is in package {parent}"
        for parent in _loaded(module)
        if not within(parent, scope)
    }
    for imp in imports_of(module):
        if imp.module in modules():
            for target in (*_loaded(imp.module), imp.module):
                if not within(target, scope):
                    found.setdefault(target, str(imp))
    return found


def violations(scope: tuple[str, ...], forbidden: Callable[[str], bool]) -> list[str]:
    """Each import by a module in ``scope`` of a module ``forbidden`` accepts: directly (the
    file, line and module), or in turn through a module outside the scope (with the chain; a
    module inside the scope answers for its own imports)."""
    found = []
    for module in sorted(m for m in modules() if within(m, scope)):
        found += [str(imp) for imp in offending(module, forbidden)]
        for target, why in exits(module, scope).items():
            for via, chain in sorted(reach(target).items(), key=lambda item: len(item[1])):
                bad = offending(via, forbidden)
                if bad:
                    found.append(f"{why}; in turn {' -> '.join(chain)}: {bad[0]}")
                    break
    return found


def _report(problems: list[str], rule: str) -> str:
    return f"{rule}:\n  " + "\n  ".join(problems)


def test_the_layers_named_here_exist() -> None:
    """Renaming a package must not leave the rules below checking nothing."""
    for name in (*LEAVES, *PURE):
        assert name in modules(), f"{name} not found: update {Path(__file__).name}"


def test_leaves_import_nothing_above_them() -> None:
    problems = violations(LEAVES, lambda name: within(name, ABOVE_LEAVES))
    assert not problems, _report(
        problems,
        "io/, config/, data_contracts/, money, calendar and grammar are leaves: they "
        "import nothing from the domain packages or the Dagster wiring",
    )


def test_pure_code_never_imports_dagster() -> None:
    problems = violations(PURE, is_dagster)
    assert not problems, _report(
        problems,
        "only the Dagster wiring (assets/, resources, definitions, schedules, …) imports dagster",
    )


def test_nothing_imports_the_removed_modules() -> None:
    removed = tuple(f"meter_pipeline.{name}" for name in REMOVED)
    problems = [
        str(imp)
        for module in sorted(modules())
        for imp in imports_of(module)
        if within(imp.module, removed)
    ]
    # A dotted string naming them, e.g. a monkeypatch target, counts too.
    pattern = re.compile(r"meter_pipeline\.(?:%s)(?:\.\w+)*" % "|".join(REMOVED))
    problems += [
        f"{relative(module)}:{node.lineno} names {node.value}"
        for module in sorted(modules())
        for node in ast.walk(syntax(module))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and pattern.fullmatch(node.value)
    ]
    assert not problems, _report(
        problems,
        "meter_pipeline.transforms and meter_pipeline.ingest "
        "are gone (ingestion/ and billing/ replace them)",
    )
    for gone in ("meter_pipeline/transforms", "meter_pipeline/ingest.py"):
        assert not (REPO / gone).exists(), f"{gone} is back"


@pytest.mark.parametrize(
    "module, expected",
    [
        pytest.param("meter_pipeline.sla.probes", True, id="a module under sla/ is pure"),
        pytest.param("meter_pipeline.money", True, id="money.py is pure"),
        pytest.param("meter_pipeline.moneybags", False, id="a prefix of the name is not enough"),
        pytest.param("meter_pipeline.assets.sla", False, id="assets/ is wiring"),
    ],
)
def test_within_matches_whole_dotted_names(module: str, expected: bool) -> None:
    assert within(module, PURE) is expected
