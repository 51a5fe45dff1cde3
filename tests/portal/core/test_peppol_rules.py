from __future__ import annotations

import json
import zipfile
from pathlib import Path

from integrations.peppol.rules import installed_pack_dir, installed_packs
from portal.core.peppol import active_rules_pack, get_validator
from tests.portal.core.conftest import peppol_rules
from tests.shared_artefacts import require_shared_peppol


def test_install_from_a_directory_makes_the_pack_active(pack_copy, data_dir):
    status, output, _ = peppol_rules("install", pack_copy)

    assert status == 0
    assert (
        "Installed CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13, UBL 2.1 (22 files, SHA-256 verified)"
        in output
    )
    active = active_rules_pack()
    assert active.origin == "installed"
    assert active.path == installed_pack_dir(data_dir)
    assert get_validator().rules_dir == active.path


def test_install_from_a_zip(pack_copy, data_dir, tmp_path):
    archive = tmp_path / "rules.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in pack_copy.rglob("*"):
            if path.is_file():
                handle.write(path, "peppol-rules/" + path.relative_to(pack_copy).as_posix())

    status, output, _ = peppol_rules("install", archive)

    assert status == 0
    assert len(installed_packs(data_dir)) == 1


def test_install_refuses_a_pack_with_a_changed_file_and_installs_nothing(pack_copy, data_dir):
    (pack_copy / "rules/SI-UBL-2.0.xslt").write_bytes(b"<changed/>")

    status, output, errors = peppol_rules("install", pack_copy)

    assert status == 1
    assert "Refused: rules/SI-UBL-2.0.xslt does not match its SHA-256" in errors
    assert "Nothing was installed." in errors
    assert installed_pack_dir(data_dir) is None and installed_packs(data_dir) == []


def test_install_refuses_a_pack_with_a_missing_file(pack_copy, data_dir):
    (pack_copy / "xsd/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd").unlink()

    status, _, errors = peppol_rules("install", pack_copy)

    assert status == 1
    assert "xsd/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd is missing" in errors


def test_install_refuses_a_zip_with_path_traversal(data_dir, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../../evil.txt", b"x")

    status, _, errors = peppol_rules("install", archive)

    assert status == 1
    assert "unsafe path" in errors


def test_install_of_a_path_that_does_not_exist_is_a_usage_error(data_dir, tmp_path):
    status, _, errors = peppol_rules("install", tmp_path / "nope")

    assert status == 2
    assert "no such file or directory" in errors


def test_status_shows_the_pack_from_peppol_rules_dir(settings, data_dir):
    settings.PEPPOL_RULES_DIR = str(require_shared_peppol())

    status, output, _ = peppol_rules("status")

    assert status == 0
    assert f"Active rules pack: {settings.PEPPOL_RULES_DIR} (PEPPOL_RULES_DIR)" in output
    assert "  CEN-EN16931-UBL.xslt      1.3.16" in output
    assert "  PEPPOL-EN16931-UBL.xslt   3.0.21" in output
    assert "  SI-UBL-2.0.xslt           2.0.3.13" in output
    assert "  UBL XSD                   2.1" in output
    assert "Integrity: all 22 files match their SHA-256" in output
    assert "Installed packs in" in output and ": none" in output


def test_status_shows_the_installed_pack(pack_copy, data_dir):
    peppol_rules("install", pack_copy)

    status, output, _ = peppol_rules("status")

    current = installed_pack_dir(data_dir)
    assert status == 0
    assert f"Active rules pack: {current} (installed)" in output
    assert f"  {current.name}  (current)" in output


def test_status_reports_an_installed_pack_that_was_changed_afterwards(pack_copy, data_dir):
    peppol_rules("install", pack_copy)
    (installed_pack_dir(data_dir) / "rules/CEN-EN16931-UBL.xslt").write_bytes(b"tampered")

    status, output, _ = peppol_rules("status")

    assert status == 1
    assert "Integrity: FAILED: rules/CEN-EN16931-UBL.xslt does not match its SHA-256" in output


def test_status_without_a_pack(data_dir):
    status, output, _ = peppol_rules("status")

    assert status == 0
    assert "Active rules pack: none: validation does structural checks only" in output
    assert "PEPPOL_REQUIRE_RULES: no" in output


def test_status_without_a_pack_when_required_fails(data_dir, settings):
    settings.PEPPOL_REQUIRE_RULES = True

    status, output, _ = peppol_rules("status", "--json")

    report = json.loads(output)
    assert status == 1
    assert report["ok"] is False and report["origin"] == "none" and report["require_rules"] is True


def test_peppol_rules_dir_takes_precedence_over_the_installed_pack(pack_copy, data_dir, settings):
    peppol_rules("install", pack_copy)
    settings.PEPPOL_RULES_DIR = str(require_shared_peppol())

    active = active_rules_pack()

    assert active.origin == "PEPPOL_RULES_DIR"
    assert active.path == Path(settings.PEPPOL_RULES_DIR)
