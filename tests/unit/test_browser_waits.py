"""Browser waits are written as functions, never as bare expressions.

Playwright evaluates a bare expression given to ``wait_for_function`` with
``eval`` on every poll. The first poll runs inside DevTools' own evaluation and
passes our Content-Security-Policy; later polls are the page's own ``eval`` and
``script-src 'self'`` refuses them, so such a wait fails whenever its condition is
not already true at the first look (a CI run failed on exactly that). A function
is evaluated once and then called, so it polls under the CSP.
"""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FUNCTION_STARTS = ("()", "(", "function", "async ")


def _looks_like_function(source: str) -> bool:
    head = source.lstrip()
    first_word = head.split("=>", 1)[0].strip()
    return head.startswith(FUNCTION_STARTS) or (
        "=>" in head and first_word.isidentifier())


def _bare_waits() -> list[str]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        constants = {target.id: node.value.value
                     for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)
                     and isinstance(node.value, ast.Constant)
                     and isinstance(node.value.value, str)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "wait_for_function" and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                source = first.value
            elif isinstance(first, ast.JoinedStr) and first.values and isinstance(
                    first.values[0], ast.Constant):
                source = str(first.values[0].value)
            elif isinstance(first, ast.Name) and first.id in constants:
                source = constants[first.id]
            else:
                continue  # built elsewhere; the helpers that build them are functions
            if not _looks_like_function(source):
                found.append(f"{path.relative_to(TESTS)}:{node.lineno}: {source[:60]!r}")
    return found


def test_every_wait_for_function_is_a_function() -> None:
    assert _bare_waits() == [], "write these as '() => …' (see this file's docstring)"


def test_the_check_sees_a_bare_expression() -> None:
    assert not _looks_like_function("window.streamOpened === true")
    assert _looks_like_function("() => window.streamOpened === true")
    assert _looks_like_function("ref => document.activeElement.id === ref")
    assert _looks_like_function("([count, type]) => count > 0")
