"""Layout rules of #13 that imports cannot show, read from the source (nothing is imported):
one controller per admin module, and the htmx/CSRF helpers written once (`app/infra/html.py`)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.source import parse

ROOT = Path(__file__).resolve().parents[2]


def _controllers(path: Path) -> list[str]:
    tree = parse(path)
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)
            and any(ast.unparse(base).endswith("Controller") for base in node.bases)]


def test_one_controller_per_admin_module() -> None:
    modules = sorted((ROOT / "app/admin").glob("*.py"))
    crowded = {str(path.relative_to(ROOT)): names for path in modules
               if len(names := _controllers(path)) > 1}
    assert not crowded, f"one controller per file in app/admin: {crowded}"


def test_the_walk_finds_controllers() -> None:
    assert _controllers(ROOT / "app/admin/orders_controller.py")


def test_htmx_and_csrf_helpers_exist_once() -> None:
    """`is_htmx` and `csrf_of` live in app/infra/html.py; nobody reads the headers again."""
    owner = ROOT / "app/infra/html.py"
    again = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "app").rglob("*.py"))
             if path != owner and not path.is_relative_to(ROOT / "app/sandbox")
             and ('"hx-request"' in (text := path.read_text().lower())
                  or "def is_htmx" in text or "def csrf_of" in text)]
    assert not again, f"use app.infra.html.is_htmx / csrf_of instead of: {again}"


def test_tests_share_helpers_only_through_tests_helpers() -> None:
    """A test module or conftest imported by another couples suites; tests/helpers is the one
    place for what several tests use."""
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(parse(path)):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [])
            wrong += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names
                      if name.startswith("tests.") and not name.startswith("tests.helpers")]
    assert not wrong, "\n".join(wrong)
