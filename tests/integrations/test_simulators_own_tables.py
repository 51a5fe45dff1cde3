"""The simulators keep their own tables (status codes, connector names, error codes): importing the clients' would
make a wrong code agree with itself, so a test could never catch it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT_MODULES = {
    "afas": ("integrations.afas.models", "integrations.afas.rows", "integrations.afas.errors",
             "integrations.afas.profit", "integrations.afas.small_business", "integrations.afas"),
    "econnect": ("integrations.econnect.models", "integrations.econnect.statuses", "integrations.econnect.errors",
                 "integrations.econnect.soap", "integrations.econnect.soap_messages", "integrations.econnect.lookup",
                 "integrations.econnect.gateway", "integrations.econnect"),
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("vendor", sorted(CLIENT_MODULES))
def test_a_simulator_imports_nothing_of_its_client(vendor):
    folder = ROOT / "integrations" / vendor / "simulator"
    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in folder.rglob("*.py")
        for module in imported_modules(path)
        if module in CLIENT_MODULES[vendor]
    }

    assert list(folder.rglob("*.py")), "the simulator moved: update this test"
    assert offending == set()
