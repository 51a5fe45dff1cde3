"""Fixtures of the Peppol command tests: an empty data directory and a writable copy of the official pack."""

from __future__ import annotations

import io
import shutil
import stat
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.shared_artefacts import require_shared_peppol


@pytest.fixture
def data_dir(settings, tmp_path) -> Path:
    settings.PEPPOL_RULES_DIR = ""
    settings.PEPPOL_DATA_DIR = tmp_path / "peppol-data"
    settings.PEPPOL_REQUIRE_RULES = False
    return settings.PEPPOL_DATA_DIR


@pytest.fixture
def pack_copy(tmp_path) -> Path:
    shared = require_shared_peppol()
    pack = tmp_path / "download" / "peppol-rules"
    shutil.copytree(shared / "rules", pack / "rules")
    shutil.copytree(shared / "xsd", pack / "xsd")
    for path in pack.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return pack


def peppol_rules(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("peppol", "rules", *map(str, arguments), stdout=out, stderr=err)
    except SystemExit as stopped:
        return stopped.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()
