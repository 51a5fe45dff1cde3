"""The Dutch catalogue: complete, consistent with its compiled form, and actually used."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from portal.contacts.lookups import ContactNotConfirmable, contact_confirm_identifier
from portal.contacts.models import Contact
from portal.contacts.selectors import contacts_csv_rows
from portal.organisations.routes import ReceivingRefused, environment_set_receiving
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.contacts.factories import ContactFactory
from tests.portal.organisations.factories import EnvironmentFactory

MESSAGES = Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES"
PO_FILE = MESSAGES / "django.po"
MO_FILE = MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _unquote(line: str) -> str:
    text = line[line.index('"') + 1 : line.rindex('"')]
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _entries() -> list[dict]:
    """The catalogue's entries (header and obsolete ones left out): msgid, msgid_plural, msgstrs, flags."""
    entries, current, field = [], None, None
    for raw in PO_FILE.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line or line.startswith("#~"):
            if current is not None and current["msgid"]:
                entries.append(current)
            if not line:
                current, field = None, None
            continue
        if current is None:
            current = {"msgid": "", "msgid_plural": None, "msgstr": {}, "flags": set()}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural "):
            field, current["msgid_plural"] = "msgid_plural", _unquote(line)
        elif line.startswith("msgid "):
            field, current["msgid"] = "msgid", _unquote(line)
        elif line.startswith("msgstr"):
            index = int(line[7]) if line.startswith("msgstr[") else 0
            field = ("msgstr", index)
            current["msgstr"][index] = _unquote(line)
        elif line.startswith('"'):
            if isinstance(field, tuple):
                current["msgstr"][field[1]] += _unquote(line)
            else:
                current[field] += _unquote(line)
    return entries


def test_the_catalogue_has_entries_and_no_fuzzy_ones():
    entries = _entries()

    assert len(entries) > 200
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert fuzzy == [], f"fuzzy entries: check their Dutch and remove the flag: {fuzzy}"


def test_placeholders_in_the_dutch_are_the_ones_in_the_english():
    wrong = []
    for entry in _entries():
        expected = set(PLACEHOLDER.findall(entry["msgid"] + (entry["msgid_plural"] or "")))
        for text in entry["msgstr"].values():
            if text and set(PLACEHOLDER.findall(text)) != expected:
                wrong.append(entry["msgid"])
    assert wrong == []


def test_every_entry_is_translated():
    untranslated = [
        entry["msgid"]
        for entry in _entries()
        if not all(entry["msgstr"].values()) or len(entry["msgstr"]) < (2 if entry["msgid_plural"] else 1)
    ]
    assert untranslated == [], (
        f"GATE: {len(untranslated)} entries of locale/nl/LC_MESSAGES/django.po have no Dutch yet (run `make messages`, "
        f"translate what is new, run `make messages` again): {untranslated[:20]}"
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_the_committed_mo_file_is_the_compiled_po_file(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(PO_FILE)], check=True)

    with compiled.open("rb") as fresh, MO_FILE.open("rb") as committed:
        fresh_catalog = gettext.GNUTranslations(fresh)._catalog
        committed_catalog = gettext.GNUTranslations(committed)._catalog

    assert committed_catalog == fresh_catalog, "django.mo is stale: run manage.py compilemessages -l nl"


# --- the Dutch is used ----------------------------------------------------------------------------------------------


def test_status_labels_and_navigation_come_out_in_dutch():
    with translation.override("nl"):
        assert OutgoingInvoice.Status.DELIVERED.label == "Afgeleverd"
        assert OutgoingInvoice.Status.NEEDS_ATTENTION.label == "Vraagt aandacht"
        assert translation.gettext("Outbox") == "Verzonden"
    with translation.override("en"):
        assert OutgoingInvoice.Status.DELIVERED.label == "Delivered"


@pytest.mark.django_db
def test_a_refused_receiving_switch_says_why_in_dutch():
    environment = EnvironmentFactory()

    with translation.override("nl"), pytest.raises(ReceivingRefused) as refused:
        environment_set_receiving(environment=environment, enabled=True, actor=None)

    assert "De klant heeft in deze omgeving geen eigen Peppol-ID" in refused.value.message
    assert "Het AFAS-token is niet ingesteld." in refused.value.message


@pytest.mark.django_db
def test_a_contact_that_cannot_be_confirmed_is_explained_in_dutch():
    creditor = ContactFactory(kind=Contact.Kind.CREDITOR, name="Leverancier X")

    with translation.override("nl"), pytest.raises(ContactNotConfirmable) as refused:
        contact_confirm_identifier(contact=creditor, actor=None)

    assert refused.value.message == (
        f"{creditor} is een crediteur: alleen Peppol-ID's van debiteuren worden naar AFAS geschreven."
    )


@pytest.mark.django_db
def test_the_csv_export_has_dutch_column_names_in_dutch_and_english_ones_in_english():
    environment = EnvironmentFactory()
    ContactFactory(environment=environment)

    with translation.override("nl"):
        header = next(iter(contacts_csv_rows(environment=environment)))

    assert header[:3] == ("AFAS-nummer", "Naam", "Status in AFAS")
    with translation.override("en"):
        assert next(iter(contacts_csv_rows(environment=environment)))[:3] == ("AFAS number", "Name", "State in AFAS")
