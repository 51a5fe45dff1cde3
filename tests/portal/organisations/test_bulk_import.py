"""Onboarding many clients from a CSV file: every row checked first, the valid ones created in one step, each row whole
or not at all, secrets never in the file."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.organisations.bulk_import import ImportRefused, import_create, plan_import
from portal.organisations.models import Environment, Organisation, OwnPeppolIdentifier
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

GOOD = (
    "name;kvk;participant;type;edition;sb_domain;own_identifier\r\n"
    "Bakkerij Een B.V.;11111111;11111;production;profit;;NL:KVK:11111111\r\n"
    "Bakkerij Een B.V.;11111111;11111;test;profit;;\r\n"
    "Kapsalon Twee;22222222;22222;productie;small business;kapsalon;0106:22222222\r\n"
)


@pytest.fixture
def firm(membership):
    return membership.firm


def test_every_row_is_checked_and_nothing_is_created_before_confirming(firm):
    plan = plan_import(firm=firm, content=GOOD.encode())

    assert [row.ok for row in plan.rows] == [True, True, True]
    assert plan.rows[0].own_identifier == "0106:11111111"
    assert plan.rows[2].edition == Environment.Edition.SMALL_BUSINESS and plan.rows[2].type == "production"
    assert not Environment.objects.exists() and not Organisation.objects.exists()


def test_the_valid_rows_are_created_with_their_organisation_and_identifier(firm):
    result = import_create(firm=firm, plan=plan_import(firm=firm, content=GOOD.encode()), actor=None, file_name="a.csv")

    assert len(result.created) == 3 and result.refused == []
    assert Organisation.objects.filter(firm=firm).count() == 2
    assert OwnPeppolIdentifier.objects.count() == 2
    created = Environment.objects.get(afas_participant_number="22222")
    assert created.afas_sb_domain == "kapsalon" and not created.has_afas_token
    assert created.events.filter(kind="environment_imported").exists()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Geen KvK;1234;33333;;;;", "is not a KvK number"),
        ("Te kort;33333333;12;;;;", "is not an AFAS participant number"),
        (";33333333;33333;;;;", "name is empty"),
        ("Vreemd;33333333;33333;staging;;;", "not a known type"),
        ("SB zonder domein;33333333;33333;;small_business;;", "needs its domain"),
        ("Fout ID;33333333;33333;;;;0106:1234", "Own identifier 0106:1234"),
        ("Lang;33333333;33333;;;;" + "9" * 300, "longer than 200 characters"),
    ],
)
def test_a_wrong_row_says_what_is_wrong_and_is_left_out(firm, line, problem):
    content = "name;kvk;participant;type;edition;sb_domain;own_identifier\n" + line + "\n"

    plan = plan_import(firm=firm, content=content.encode())

    [row] = plan.rows
    assert not row.ok and any(problem in text for text in row.problems), row.problems


def test_rows_are_checked_against_the_portal_and_each_other(firm):
    EnvironmentFactory(afas_participant_number="44444", afas_environment_type="production")
    OrganisationFactory(firm=firm, kvk_number="55555555", name="Bestaand B.V.")
    content = (
        "name,kvk,participant,type\n"
        "Nieuw,66666666,44444,production\n"  # that AFAS environment is in the portal already
        "Andere naam,55555555,55555,production\n"  # that KvK is another client's name
        "Bestaand B.V.,55555555,55556,production\n"  # an existing client: the environment is added to it
        "Dubbel,77777777,77777,test\n"
        "Dubbel,77777777,77777,test\n"  # twice in the file
    )

    rows = plan_import(firm=firm, content=content.encode()).rows

    assert "already set up in the portal" in rows[0].problems[0]
    assert "is already “Bestaand B.V.”" in rows[1].problems[0]
    assert rows[2].ok and rows[2].existing_organisation
    assert rows[3].ok and "on line 5 already" in rows[4].problems[0]


def test_a_file_with_a_secret_column_is_refused_whole(firm):
    with pytest.raises(ImportRefused, match="tokens and keys never go in a file"):
        plan_import(firm=firm, content=b"name;kvk;participant;AFAS token\nA;11111111;11111;secret\n")


def test_an_excel_file_saved_in_windows_encoding_is_read(firm):
    content = "naam;kvk;deelnemer\nCaf\u00e9 De Hoek;88888888;88888\n".encode("cp1252")

    [row] = plan_import(firm=firm, content=content).rows

    assert row.ok and row.name == "Café De Hoek"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name;kvk;participant\n", "no rows"),
        (b"name;participant\nA;11111\n", "needs the columns kvk"),
        (b"PK\x03\x04\x00\x00binary", "not a CSV file"),
        (b"a" * (1024 * 1024 + 1), "larger than 1 MB"),
    ],
)
def test_an_unusable_file_is_refused_with_the_reason(firm, content, message):
    with pytest.raises(ImportRefused, match=message):
        plan_import(firm=firm, content=content)


def test_a_row_taken_meanwhile_is_reported_and_the_others_are_created_whole(firm):
    plan = plan_import(firm=firm, content=GOOD.encode())
    EnvironmentFactory(afas_participant_number="11111", afas_environment_type="test")  # someone else, meanwhile

    result = import_create(firm=firm, plan=plan, actor=None)

    assert len(result.created) == 2 and [row.line for row in result.refused] == [3]
    assert not Environment.objects.filter(afas_participant_number="11111", organisation__firm=firm,
                                          afas_environment_type="test").exists()  # fmt: skip


# --- the pages --------------------------------------------------------------------------------------------------------


def upload(client, content: bytes, name="clients.csv"):
    return client.post(reverse("web:onboarding_import"), {"file": SimpleUploadedFile(name, content)})


def test_a_firm_admin_checks_a_file_then_creates_its_valid_rows(firm_admin_client, firm):
    content = GOOD + "Fout;1;1;;;;\r\n"

    checked = upload(firm_admin_client, content.encode()).content.decode()

    assert "3 rows can be created." in checked and "1 row has problems" in checked
    assert "is not a KvK number" in checked
    assert not Environment.objects.exists()
    plan = re.search(r'name="plan" value="([^"]+)"', checked).group(1)
    created = firm_admin_client.post(reverse("web:onboarding_import_create"), {"plan": plan}).content.decode()
    assert "3 environments created" in created
    assert Environment.objects.filter(organisation__firm=firm).count() == 3


def test_a_tampered_plan_is_refused(firm_admin_client):
    response = firm_admin_client.post(reverse("web:onboarding_import_create"), {"plan": "forged"})

    assert "upload it again" in response.content.decode()
    assert not Environment.objects.exists()


def test_accountants_cannot_import(accountant_client):
    assert upload(accountant_client, GOOD.encode()).status_code == 403


def download_template(client, language: str = "en") -> tuple:
    response = client.get(reverse("web:onboarding_import_template"), HTTP_ACCEPT_LANGUAGE=language)
    return response, b"".join(response.streaming_content)


def test_the_template_downloads_as_csv_for_excel(firm_admin_client):
    response, content = download_template(firm_admin_client)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content.startswith("\ufeff".encode())
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize("language", ["en", "nl"])  # commas for English readers, semicolons for Dutch ones
def test_the_template_has_every_column_and_is_accepted_as_it_is(firm_admin_client, firm, language):
    _response, content = download_template(firm_admin_client, language)

    plan = plan_import(firm=firm, content=content)

    assert all(row.ok for row in plan.rows), [row.problems for row in plan.rows]
