"""Rooms that stay small enough to read (issue 17): no Python file under ``portal/`` or ``integrations/`` longer
than 600 lines, no function there longer than 80."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE_LINES, MAX_FUNCTION_LINES = 600, 80


def sources() -> list[Path]:
    return [
        path
        for base in ("portal", "integrations")
        for path in sorted((ROOT / base).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_file_is_longer_than_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES}

    assert long == {}


def test_no_function_is_longer_than_80_lines():
    long = {
        f"{path.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
        for path in sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }

    assert long == {}
