"""The layering of app/ and workers/, read from the source with `ast` (nothing is imported):

- the plumbing (`app.infra`, `app.platform`, `app.live`) sits below every domain and imports
  none (the tenant table `app.restaurants.tables` aside, which foreign keys point at);
- no domain (orders, payments, kitchen, notifications, restaurants, accounts, manage) imports the
  operator side (`app.ops`, `app.admin`) or the dev tooling (`app.dev`, `app.sandbox`,
  `app.bench`);
- production code never imports `app.dev` or `app.sandbox`; only the CLI's commands may,
  inside the function that needs them;
- no circle of imports, those inside functions included (a lazy import that closes a circle
  only hides it); imports for type checking alone do not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.source import parse

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("orders", "payments", "kitchen", "notifications", "restaurants", "accounts", "manage")
OPERATOR = ("app.ops", "app.admin")
DEV_ONLY = ("app.dev", "app.sandbox")  # never in a production process
TOOLING = ("app.dev", "app.sandbox", "app.bench")  # `orderpass dev`, the sandbox, the bench
PLUMBING = ("app.infra", "app.platform", "app.live")
# What the plumbing may import from app/: itself, settings and wiring, the tenant table.
PLUMBING_MAY_IMPORT = (*PLUMBING, "app.settings", "app.paths", "app.piccolo_conf",
                       "app.templating", "app.restaurants.tables")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # a module of app/ or workers/
    line: int
    module_level: bool  # runs on import (not inside a function, not under TYPE_CHECKING)
    parent: bool = False  # a package whose __init__ runs on the way to the named module
    typing_only: bool = False  # under `if TYPE_CHECKING:`, never runs

    def __str__(self) -> str:
        path = MODULES[self.source].relative_to(ROOT)
        return f"{path}:{self.line} imports {self.target}"


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("app", "workers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if MODULES[module].name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _targets(name: str) -> Iterator[tuple[str, bool]]:
    """The module of ours a name is or lives in, and the packages run on the way to it
    (`a.b.c` → (a.b.c, False), (a.b, True), (a, True)), each with "is a parent"."""
    parts = name.split(".")
    named = True
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            yield candidate, not named
            named = False


def _walk(node: ast.AST, module_level: bool,
          typing_only: bool = False) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        typing = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
        deferred = typing or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if deferred:  # runs later, or never: not part of importing the module
            yield from _walk(child, False, typing_only or typing)
        else:
            yield child, module_level, typing_only
            yield from _walk(child, module_level, typing_only)


def _imports_of(module: str) -> Iterator[Import]:
    tree = parse(MODULES[module])
    for node, module_level, typing_only in _walk(tree, True):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        for name in names:
            for target, parent in _targets(name):
                if target != module:
                    yield Import(module, target, getattr(node, "lineno", 0), module_level,
                                 parent, typing_only)


EVERY_IMPORT = sorted({found for module in MODULES for found in _imports_of(module)},
                      key=lambda found: (found.source, found.line, found.target))
IMPORTS = [found for found in EVERY_IMPORT if not found.parent]  # what the code names


def test_the_walk_sees_the_tree() -> None:
    """Guards the guards: the walk finds modules and imports of each kind."""
    assert {"app.asgi", "app.orders.lifecycle", "workers.settings"} <= set(MODULES)
    assert any(found.source == "app.cli" and found.target == "app.dev.supervisor"
               and not found.module_level for found in IMPORTS)
    assert any(found.source == "app.orders.lifecycle" and found.target == "app.platform.outbox"
               and found.module_level for found in IMPORTS)


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_imports_no_operator_or_dev_code(domain: str) -> None:
    package = f"app.{domain}"
    wrong = [str(found) for found in IMPORTS if _is_under(found.source, (package,))
             and _is_under(found.target, (*OPERATOR, *TOOLING))]
    assert not wrong, f"{package} must not import app.ops, app.admin or dev tooling:\n" + \
        "\n".join(wrong)


def test_the_plumbing_imports_no_domain() -> None:
    wrong = [str(found) for found in IMPORTS if _is_under(found.source, PLUMBING)
             and not _is_under(found.target, PLUMBING_MAY_IMPORT)]
    assert not wrong, "app.infra, app.platform and app.live sit below the domains:\n" + \
        "\n".join(wrong)


def test_production_code_never_imports_dev_or_sandbox() -> None:
    wrong = [str(found) for found in IMPORTS if _is_under(found.target, DEV_ONLY)
             and not _is_under(found.source, TOOLING)
             and not (found.source == "app.cli" and not found.module_level)]
    assert not wrong, ("app.dev and app.sandbox are for `orderpass dev` and tests; only the "
                       "CLI command that runs them may import them, lazily:\n" + "\n".join(wrong))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_circle_of_imports() -> None:
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in EVERY_IMPORT:
        if not found.typing_only:
            edges[found.source].add(found.target)
    circles = _cycles(edges)
    assert not circles, "modules that import each other in a circle (each line one circle):\n" + \
        "\n".join(", ".join(circle) for circle in circles)
