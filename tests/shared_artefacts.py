"""The official artefacts in ../shared (Peppol rules and examples): always there in CI, skipped elsewhere."""

import os
from pathlib import Path

import pytest

RULES_DIR = os.environ.get("PEPPOL_RULES_DIR", "")
SHARED_PEPPOL = Path(RULES_DIR) if RULES_DIR else None


def require_shared_peppol() -> Path:
    """The Peppol artefacts directory, or skip the test with the reason (fail instead when CI is set)."""
    if SHARED_PEPPOL and (SHARED_PEPPOL / "rules").is_dir():
        return SHARED_PEPPOL
    reason = "the official Peppol artefacts (../shared/peppol, or PEPPOL_RULES_DIR) are not on this machine"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must run these tests")
    pytest.skip(reason)
