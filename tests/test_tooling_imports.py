"""The test stack is one importable module (issue 17): the end-to-end and browser tests, the campaigns and the
benchmarks take the stack's parts from ``tests/stack``; none of them imports a conftest or another tree's private
names, and ``tests/stack`` itself needs neither pytest nor a test module."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every ``from module import name`` and (module, "") for every ``import module``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


def python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")]


def test_campaigns_and_benchmarks_import_no_conftest_and_no_private_name_of_the_tests():
    offending = [
        f"{path.relative_to(ROOT)}: from {module} import {name}"
        for path in python_files("campaigns", "benchmarks")
        for module, name in imports(path)
        if module.startswith("tests.") and (module.endswith("conftest") or name.startswith("_"))
    ]

    assert offending == []


def test_tests_import_no_private_name_of_the_campaigns_or_benchmarks():
    offending = [
        f"{path.relative_to(ROOT)}: from {module} import {name}"
        for path in python_files("tests")
        for module, name in imports(path)
        if module.startswith(("campaigns", "benchmarks")) and name.startswith("_")
    ]

    assert offending == []


def test_the_campaigns_take_the_stack_from_tests_stack_not_from_the_benchmarks():
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files("campaigns")
        for module, _name in imports(path)
        if module.startswith("benchmarks")
    ]

    assert offending == []


def test_the_stack_needs_no_pytest_and_no_test_module():
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files("tests/stack")
        for module, _name in imports(path)
        if module == "pytest" or (module.startswith("tests.") and not module.startswith("tests.stack"))
    ]

    assert offending == []
