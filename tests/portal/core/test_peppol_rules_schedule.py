"""Rule releases that switch on their date: two installed packs, a clock that moves past midnight in Amsterdam."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.peppol.rules import sha256_of
from portal.core.peppol import active_rules_pack, get_validator, rules_health
from tests.portal.core.conftest import peppol_rules

RELEASE_DAY = datetime.date(2027, 5, 18)
# 23:59:59 in Amsterdam (summer time, UTC+2) on the day before, and midnight there.
EVENING_BEFORE = datetime.datetime(2027, 5, 17, 21, 59, 59, tzinfo=datetime.UTC)
MIDNIGHT = datetime.datetime(2027, 5, 17, 22, 0, 0, tzinfo=datetime.UTC)


def next_release(pack: Path, *, declared: datetime.date | None) -> Path:
    """The pack as the next release: another CEN version and a changed file, optionally declaring its date."""
    licence = pack / "rules/LICENSE-EUPL-1.2.txt"
    old_sha = sha256_of(licence)
    licence.write_text("the next release's licence text\n")
    versions = pack / "rules/VERSIONS.txt"
    text = versions.read_text().replace(old_sha, sha256_of(licence)).replace("version 1.3.16", "version 1.3.17", 1)
    if declared is not None:
        text = f"Effective from: {declared.isoformat()}\n\n" + text
    versions.write_text(text)
    return pack


@pytest.fixture
def clock(monkeypatch):
    """Sets the time the portal reads (``timezone.now``)."""

    def set_to(moment: datetime.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_to(datetime.datetime(2027, 5, 1, 10, 0, tzinfo=datetime.UTC))
    return set_to


@pytest.fixture
def two_packs(pack_copy, data_dir, clock):
    """The current release installed today, the next one installed ahead of its day (declared in the pack)."""
    assert peppol_rules("install", pack_copy)[0] == 0
    status, output, _ = peppol_rules("install", next_release(pack_copy, declared=RELEASE_DAY))
    assert status == 0 and "It is in force from 2027-05-18 (00:00 Europe/Amsterdam)" in output


def test_the_next_release_waits_for_its_day_and_takes_over_at_midnight_in_amsterdam(two_packs, clock):
    clock(EVENING_BEFORE)
    assert active_rules_pack().pack.version_of("CEN-EN16931-UBL") == "1.3.16"

    clock(MIDNIGHT)
    assert active_rules_pack().pack.version_of("CEN-EN16931-UBL") == "1.3.17"


def test_validation_uses_the_pack_in_force_at_the_moment_of_validation(two_packs, clock, shared_peppol):
    invoice = (shared_peppol / "corpus/valid/01_cen_BIS3_Invoice_positive.xml").read_bytes()

    clock(EVENING_BEFORE)
    before = get_validator().validate(invoice)
    clock(MIDNIGHT)
    after = get_validator().validate(invoice)

    assert before.rules_version.startswith("CEN 1.3.16") and before.valid
    assert after.rules_version.startswith("CEN 1.3.17") and after.valid


@pytest.mark.django_db
def test_status_and_healthz_show_the_active_and_the_next_pack(two_packs, clock, client):
    clock(EVENING_BEFORE)
    status, output, _ = peppol_rules("status")
    report = json.loads(peppol_rules("status", "--json")[1])

    assert status == 0
    assert "Scheduled: next: CEN 1.3.17" in output and "from 2027-05-18 (00:00 Europe/Amsterdam)" in output
    assert report["label"].startswith("CEN 1.3.16") and report["next"]["effective_from"] == "2027-05-18"
    assert "next: CEN 1.3.17" in rules_health().detail
    healthz = client.get("/healthz").json()["checks"]["peppol_rules"]
    assert healthz["detail"].startswith("CEN 1.3.16") and "next: CEN 1.3.17" in healthz["detail"]

    clock(MIDNIGHT)
    assert peppol_rules("status", "--json")[1] and json.loads(peppol_rules("status", "--json")[1])["next"] is None
    assert "next:" not in rules_health().detail


def test_a_date_given_at_install_overrides_the_one_the_pack_declares(pack_copy, data_dir, clock):
    peppol_rules("install", pack_copy)
    status, output, _ = peppol_rules(
        "install", next_release(pack_copy, declared=RELEASE_DAY), "--effective-from", "2027-06-01"
    )

    assert status == 0 and "in force from 2027-06-01" in output
    clock(MIDNIGHT)
    assert active_rules_pack().pack.version_of("CEN-EN16931-UBL") == "1.3.16"
    clock(datetime.datetime(2027, 5, 31, 22, 0, tzinfo=datetime.UTC))
    assert active_rules_pack().pack.version_of("CEN-EN16931-UBL") == "1.3.17"


def test_a_release_whose_day_has_come_is_in_force_at_once(pack_copy, data_dir, clock):
    peppol_rules("install", pack_copy)
    status, output, _ = peppol_rules("install", next_release(pack_copy, declared=datetime.date(2027, 4, 1)))

    assert status == 0 and "It is now the current installed pack." in output
    assert active_rules_pack().pack.version_of("CEN-EN16931-UBL") == "1.3.17"
