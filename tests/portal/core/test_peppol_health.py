from __future__ import annotations

import shutil

import pytest

from integrations.peppol.rules import install_pack
from portal.core.health import health_report, peppol_rules_check
from tests.shared_artefacts import require_shared_peppol


@pytest.fixture
def no_pack(settings, tmp_path):
    settings.PEPPOL_RULES_DIR = ""
    settings.PEPPOL_DATA_DIR = tmp_path / "peppol-data"
    settings.PEPPOL_REQUIRE_RULES = False


def test_with_an_active_pack_the_check_is_ok_and_names_the_versions(settings):
    settings.PEPPOL_RULES_DIR = str(require_shared_peppol())

    result = peppol_rules_check()

    assert result.ok
    assert (
        result.detail
        == "CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13 + Peppol SB 2026.5 + SI-UBL G 1.0.13, UBL 2.1 (from PEPPOL_RULES_DIR)"
    )


def test_with_an_installed_pack_the_check_is_ok(no_pack, settings, tmp_path):
    shared = require_shared_peppol()
    pack = tmp_path / "pack"
    shutil.copytree(shared / "rules", pack / "rules")
    shutil.copytree(shared / "xsd", pack / "xsd")
    install_pack(pack, settings.PEPPOL_DATA_DIR)

    result = peppol_rules_check()

    assert result.ok
    assert result.detail.endswith("(installed pack)")
    assert str(tmp_path) not in result.detail  # /healthz is public: no paths


def test_without_a_pack_the_check_is_degraded_and_says_invoices_are_not_checked_against_the_rules(no_pack):
    result = peppol_rules_check()

    assert result.ok and result.degraded
    assert result.detail.startswith("no rules pack: structural checks only;")
    assert "NOT checked against the official Peppol rules" in result.detail
    assert "peppol rules fetch" in result.detail


def test_without_a_pack_when_rules_are_required_the_check_fails(no_pack, settings):
    settings.PEPPOL_REQUIRE_RULES = True

    result = peppol_rules_check()

    assert not result.ok
    assert "PEPPOL_REQUIRE_RULES" in result.detail


def test_a_configured_directory_that_is_not_a_pack_fails_the_check(no_pack, settings, tmp_path):
    settings.PEPPOL_RULES_DIR = str(tmp_path / "missing")

    result = peppol_rules_check()

    assert not result.ok
    assert "unusable" in result.detail and str(tmp_path) not in result.detail


def test_the_health_report_includes_the_rules_check_next_to_the_others(no_pack, db):
    report = health_report()

    assert {"database", "broker", "encryption", "peppol_rules"} <= set(report)
    assert report["peppol_rules"].ok


@pytest.mark.django_db
def test_healthz_answers_503_when_rules_are_required_but_missing(client, no_pack, settings):
    settings.PEPPOL_REQUIRE_RULES = True

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["peppol_rules"]


@pytest.mark.django_db
def test_healthz_is_degraded_with_the_reason_without_a_pack_when_not_required(client, no_pack):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["failing"] == [] and body["degraded"] == ["peppol_rules"]
    assert "NOT checked against the official Peppol rules" in body["reasons"][0]
    assert body["checks"]["peppol_rules"]["degraded"] is True


@pytest.mark.django_db
def test_healthz_is_ok_with_a_pack(client):
    require_shared_peppol()

    body = client.get("/healthz").json()

    assert body["status"] == "ok" and body["degraded"] == []
