"""Checking a client's AFAS setup: each missing connector, field and right is named with the action in AFAS."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.afas import simulator as afas_simulator
from integrations.demo_data import ENVIRONMENTS
from integrations.simulators.transport import SimulatorTransport
from portal.organisations import clients
from portal.organisations.afas_setup import Severity, afas_check_setup, afas_setup_last
from portal.organisations.checklist import StepState, environment_checklist
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment

PROFIT_TEST = ENVIRONMENTS[1]  # 12345 test: Profit, with sales invoices in its dossiers
SB = ENVIRONMENTS[2]


@pytest.fixture
def afas(db, monkeypatch, settings):
    app = afas_simulator.create_app()
    afas_simulator.seed_demo(app)
    transport = SimulatorTransport(app)
    make_profit, make_sb = clients.afas_client_for, clients.afas_small_business_client_for
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment, **kw: make_profit(environment, transport=transport)
    )
    monkeypatch.setattr(
        clients, "afas_small_business_client_for", lambda environment, **kw: make_sb(environment, transport=transport)
    )
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    settings.AFAS_SB_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/sb/{domain}/{environment}"
    demo_seed()
    return app


def environment(spec) -> Environment:
    return Environment.objects.get(
        afas_participant_number=spec.participant, afas_environment_type=spec.environment_type
    )


def half_set_up(app) -> None:
    """An app connector without KnSalesRelationOrg and the subject connector, and a debtor GetConnector without EnId."""
    env = app.environments[PROFIT_TEST.key]
    allowed = [name for name in env["get_connectors"] if name != "Profit_SubjectTypes"]
    for entry in env["tokens"].values():
        entry["connectors"] = [*allowed, "FiElectronicInvoicePurchase"]
    debtors = env["get_connectors"]["Peppol_Debtors"]
    debtors["fields"] = [field for field in debtors["fields"] if field["id"] != "EnId"]


def test_a_complete_profit_setup_is_reported_as_complete(afas):
    report = afas_check_setup(environment=environment(PROFIT_TEST))

    assert report.ok, [f.as_data() for f in report.findings]
    assert 27 in {number for number, _ in report.subject_types}  # the simulated environment's sales invoice type
    assert environment(PROFIT_TEST).afas_setup_missing == []


def test_each_missing_connector_field_and_right_is_named_with_its_action(afas):
    half_set_up(afas)
    out = StringIO()

    with pytest.raises(CommandError, match="missing in AFAS"):
        call_command("afas", "check-setup", PROFIT_TEST.participant, "--type", "test", stdout=out)

    text = out.getvalue()
    assert "MISSING  Peppol_Debtors.EnId: GetConnector Peppol_Debtors lacks the fields EnId." in text
    assert "GetConnectors > Peppol_Debtors > Fields: add them" in text
    assert "MISSING  KnSalesRelationOrg: UpdateConnector KnSalesRelationOrg is not in the token's app connector" in text
    assert "MISSING  AppConnectorSubject: Attachments cannot be downloaded: add the subject connector" in text
    assert "warning  Profit_SubjectTypes: GetConnector Profit_SubjectTypes is not in the token's app connector" in text
    stored = environment(PROFIT_TEST)
    assert stored.afas_setup_missing == ["Peppol_Debtors.EnId", "KnSalesRelationOrg", "AppConnectorSubject"]
    step = {s.key: s for s in environment_checklist(stored, identifiers=[]).steps}["afas_connectors"]
    assert step.state is StepState.FAILED and "KnSalesRelationOrg" in str(step.detail)


def test_the_report_is_kept_and_shown_in_dutch_too(afas):
    from django.utils import translation

    half_set_up(afas)
    afas_check_setup(environment=environment(PROFIT_TEST))

    with translation.override("nl"):
        shown = afas_setup_last(environment(PROFIT_TEST))
    assert shown.missing_count == 3
    assert any("voeg ze toe" in finding.text for finding in shown.findings)


def test_a_dossier_item_type_the_environment_does_not_have_is_named_with_the_types_seen(afas):
    Environment.objects.filter(pk=environment(PROFIT_TEST).pk).update(afas_sales_invoice_subject_type=33)

    report = afas_check_setup(environment=environment(PROFIT_TEST))

    [finding] = [f for f in report.findings if f.severity is Severity.MISSING]
    assert finding.key == "Profit_SubjectTypes.33"
    assert "-5 Inkoopfactuur" in str(finding.message) and "27 Verkoopfactuur" in str(finding.message)


def test_debtors_without_identifiers_or_sending_by_themselves_are_warnings(afas):
    rows = afas.environments[PROFIT_TEST.key]["get_connectors"]["Peppol_Debtors"]["rows"]
    for row in rows:
        row.update(EnId=None, CcNr=None, OINr=None)
    rows[0]["InPv"] = "F"

    report = afas_check_setup(environment=environment(PROFIT_TEST))

    warnings = {f.key: str(f.message) for f in report.findings if f.severity is Severity.WARNING}
    assert report.ok  # warnings do not block
    assert "debtors.identifiers" in warnings and "debtors.InPv" in warnings
    assert "Factuur en UBL in dossier plaatsen" in warnings["debtors.InPv"]


def test_a_small_business_relation_must_have_the_type_sb_expects(afas):
    sb = environment(SB)

    assert afas_check_setup(environment=sb).ok  # the demo books on "Diverse creditors" as unknown

    Environment.objects.filter(pk=sb.pk).update(afas_sb_relation_type=Environment.SbRelationType.ORGANISATION)
    report = afas_check_setup(environment=environment(SB))
    assert report.missing == ["afas_sb_relation_type"]
    assert "needs relation type unknown" in str(report.findings[0].message)


def test_afas_that_cannot_be_asked_is_reported_not_hidden(afas):
    afas.environments[PROFIT_TEST.key]["tokens"].clear()

    report = afas_check_setup(environment=environment(PROFIT_TEST))

    assert not report.ok and "refused" in report.failure.lower()
    assert environment(PROFIT_TEST).afas_setup_missing[0].startswith("AFAS: ")
