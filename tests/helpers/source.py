"""Reading our own source as a tree, for the layout and layering tests."""

from __future__ import annotations

import ast
import gc
from pathlib import Path


def parse(path: Path) -> ast.Module:
    """`ast.parse` of a file, robust to a CPython 3.11 fault: the AST converter keeps its
    recursion depth in interpreter-wide state, so another parse in between (another
    thread's, or one run by a finalizer during a garbage collection) leaves it off and the
    parse fails with "SystemError: AST constructor recursion depth mismatch" on a file that
    parses fine (fresh-clone CI, twice this session, in different xdist workers). Held off
    from collections, and tried once more after that error."""
    source = path.read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return ast.parse(source, str(path))
        except SystemError:
            return ast.parse(source, str(path))
    finally:
        if enabled:
            gc.enable()
