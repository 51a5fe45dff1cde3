import os
from pathlib import Path

import pytest

RULES_DIR = os.environ.get("PEPPOL_RULES_DIR", "")
SHARED_PEPPOL = Path(RULES_DIR) if RULES_DIR else None


def _require_shared_peppol() -> Path:
    """The official artefacts in ../shared/peppol: always there in CI, skipped (with the reason) elsewhere."""
    if SHARED_PEPPOL and (SHARED_PEPPOL / "rules").is_dir():
        return SHARED_PEPPOL
    reason = "the official Peppol artefacts (../shared/peppol, or PEPPOL_RULES_DIR) are not on this machine"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must run these tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_peppol() -> Path:
    return _require_shared_peppol()


@pytest.fixture(scope="session")
def official_validator(shared_peppol):
    """The validator with the official rules pack, compiled once for the whole test session."""
    from integrations.peppol.validation import load_validator

    return load_validator(shared_peppol)
