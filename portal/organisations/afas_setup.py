"""Check a client's AFAS setup: everything the portal reads and writes is there, or what to do in AFAS.

For Profit, through ``/metainfo`` and ``/metainfo/{get|update}/{id}``: every GetConnector the portal reads exists in
the app connector with the exact field ids it uses, the UpdateConnectors it writes are there with the fields it
writes, one attachment download shows the subject connector is in the app connector, and the debtors carry what the
portal needs (a Peppol id, KvK or OIN; an issue method that lets the portal send). Each missing item names the AFAS
screen and the action; empty data is a warning, never silence. For Small Business: the token, and that the relation
invoices are booked on fits its relation type.

The outcome is recorded on the environment (``afas_setup_checked_at``, ``afas_setup_missing``, read by the setup
checklist) and in full as an Event, shown on the environment page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone

from integrations.afas import ProfitClient
from integrations.afas import rows as afas_rows
from integrations.afas.errors import AfasConnectorMissing
from integrations.afas.rows import (
    ADMINISTRATION_FIELDS,
    CREDITOR_FIELDS,
    DEBTOR_FIELDS,
    DOSSIER_ATTACHMENT_FIELDS,
    DOSSIER_ITEM_FIELDS,
    DOSSIER_ITEM_FILE_FIELDS,
    DOSSIER_ITEM_TYPE_FIELDS,
)
from integrations.http import RemoteError
from portal.accounts.models import User
from portal.events.messages import Msg, render_data
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment

EVENT_KIND = EventKind.AFAS_SETUP_CHECKED
DEBTOR_SAMPLE = 200  # debtors read to judge the data (one page of what Profit allows per call)
# Issue methods with which Profit sends by itself (eConnect link F, AFAS's own access point C): double-sending risk.
SENDS_ITSELF = ("F", "C")
PURCHASE_INVOICE_FIELDS = ("FXml", "XML", "FPdf", "PDF", "UnId")
SALES_RELATION_FIELDS = ("DbId", "EnId")


class Severity(StrEnum):
    MISSING = "missing"  # the portal cannot work until it is fixed
    WARNING = "warning"  # it works, but something will go wrong for some invoices


@dataclass(frozen=True)
class Finding:
    key: str  # what is missing, e.g. "Peppol_Debtors.EnId"
    severity: Severity
    message: Msg

    def as_data(self) -> dict[str, Any]:
        return {"key": self.key, "severity": self.severity.value, "message": self.message.as_data()}


@dataclass
class AfasSetupReport:
    checked_at: datetime
    findings: list[Finding] = field(default_factory=list)
    subject_types: list[tuple[int, str]] = field(default_factory=list)
    failure: str = ""  # AFAS could not be asked at all

    @property
    def ok(self) -> bool:
        return not self.failure and not any(f.severity is Severity.MISSING for f in self.findings)

    @property
    def missing(self) -> list[str]:
        return [f.key for f in self.findings if f.severity is Severity.MISSING]

    def add(self, key: str, severity: Severity, message: Msg) -> None:
        self.findings.append(Finding(key, severity, message))

    def as_data(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "findings": [f.as_data() for f in self.findings],
            "subject_types": [list(t) for t in self.subject_types],
            "failure": self.failure,
        }


def afas_check_setup(*, environment: Environment, actor: User | None = None) -> AfasSetupReport:
    report = AfasSetupReport(checked_at=timezone.now())
    try:
        if environment.afas_edition == Environment.Edition.SMALL_BUSINESS:
            _check_small_business(environment, report)
        else:
            with clients.afas_client_for(environment) as client:
                client.read_attempts = 1  # a person (or support's command) waits for the answer
                _check_profit(environment, client, report)
    except RemoteError as exc:
        report.failure = exc.message
    _record(environment, report, actor)
    return report


# --- Profit ----------------------------------------------------------------------------------------------------------


def _check_profit(environment: Environment, client: ProfitClient, report: AfasSetupReport) -> None:
    names = client.connectors
    meta = client.metainfo()
    wanted: list[tuple[str, tuple[str, ...], Severity]] = [
        (names.debtors, DEBTOR_FIELDS, Severity.MISSING),
        (names.creditors, CREDITOR_FIELDS, Severity.MISSING),
        (names.administrations, ADMINISTRATION_FIELDS, Severity.WARNING),
        (names.dossier_items, DOSSIER_ITEM_FIELDS, Severity.MISSING),
        (names.dossier_attachments, DOSSIER_ATTACHMENT_FIELDS, Severity.MISSING),
        (names.dossier_item_files, DOSSIER_ITEM_FILE_FIELDS, Severity.MISSING),
        (names.dossier_item_types, DOSSIER_ITEM_TYPE_FIELDS, Severity.WARNING),
    ]
    for connector, fields, severity in wanted:
        if connector not in meta.get_connectors:
            key = "afas_setup.debtors_missing" if connector == names.debtors else "afas_setup.get_missing"
            report.add(connector, severity, Msg(key, connector=connector))
            continue
        _fields_present(client, "get", connector, fields, report, severity)
    if names.delivered_purchase_invoices not in meta.get_connectors:
        report.add(
            names.delivered_purchase_invoices,
            Severity.WARNING,
            Msg("afas_setup.reconciliation_missing", connector=names.delivered_purchase_invoices),
        )
    for connector, fields in (
        (names.purchase_invoice, PURCHASE_INVOICE_FIELDS),
        (names.sales_relation, SALES_RELATION_FIELDS),
    ):
        if connector not in meta.update_connectors:
            report.add(connector, Severity.MISSING, Msg("afas_setup.update_missing", connector=connector))
            continue
        _fields_present(client, "update", connector, fields, report, Severity.MISSING)
    if names.dossier_item_types in meta.get_connectors:
        _subject_types(environment, client, report)
    if names.dossier_item_files in meta.get_connectors and names.dossier_attachments in meta.get_connectors:
        _try_one_download(client, report)
    if names.debtors in meta.get_connectors and not any(f.key.startswith(names.debtors) for f in report.findings):
        _debtor_data(client, report)


def _fields_present(
    client: ProfitClient, kind: str, connector: str, fields: tuple[str, ...], report: AfasSetupReport, severity
) -> None:
    present = set(client.connector_fields(kind, connector))
    absent = [f for f in fields if f not in present]
    if absent:
        key = "afas_setup.get_fields_missing" if kind == "get" else "afas_setup.update_fields_missing"
        report.add(f"{connector}.{','.join(absent)}", severity, Msg(key, connector=connector, fields=", ".join(absent)))


def _subject_types(environment: Environment, client: ProfitClient, report: AfasSetupReport) -> None:
    report.subject_types = [
        (number, afas_rows.text(row, "Description"))
        for row in client.iter_rows(client.connectors.dossier_item_types, order_by=("SubjectTypeId",))
        if (number := afas_rows.integer(row, "SubjectTypeId")) is not None
    ]
    wanted = environment.afas_sales_invoice_subject_type
    if wanted is not None and wanted not in {t for t, _ in report.subject_types}:
        seen = ", ".join(f"{t} {d}".strip() for t, d in report.subject_types) or "-"
        report.add(
            f"{client.connectors.dossier_item_types}.{wanted}",
            Severity.MISSING,
            Msg("afas_setup.subject_type_unknown", type=str(wanted), types=seen),
        )


def _try_one_download(client: ProfitClient, report: AfasSetupReport) -> None:
    """The subject connector is not listed by /metainfo: the only proof is one download."""
    items = client.sales_invoice_items(limit=1)
    attachment = next((a for item in items for a in item.attachments), None)
    if attachment is None:
        report.add("SubjectConnector", Severity.WARNING, Msg("afas_setup.download_not_tried"))
        return
    try:
        client.download_attachment(attachment.subject_id, attachment.file_id)
    except AfasConnectorMissing:
        report.add(
            client.connectors.subject_connector,
            Severity.MISSING,
            Msg("afas_setup.subject_connector_missing", connector=client.connectors.subject_connector),
        )


def _debtor_data(client: ProfitClient, report: AfasSetupReport) -> None:
    rows = client.iter_rows(client.connectors.debtors, order_by=("DebtorId",))
    debtors = [afas_rows.debtor(row) for row in itertools.islice(rows, DEBTOR_SAMPLE)]
    if not debtors:
        report.add("debtors", Severity.WARNING, Msg("afas_setup.no_debtors"))
        return
    if not any(d.econnect_id or d.kvk or d.oin for d in debtors):
        report.add("debtors.identifiers", Severity.WARNING, Msg("afas_setup.no_debtor_ids", count=str(len(debtors))))
    sending_itself = [d for d in debtors if d.issue_method.upper() in SENDS_ITSELF]
    if sending_itself:
        report.add(
            "debtors.InPv",
            Severity.WARNING,
            Msg(
                "afas_setup.debtors_send_themselves",
                count=str(len(sending_itself)),
                debtors=", ".join(d.number for d in sending_itself[:10]),
            ),
        )


# --- Small Business --------------------------------------------------------------------------------------------------


def _check_small_business(environment: Environment, report: AfasSetupReport) -> None:
    with clients.afas_small_business_client_for(environment) as sb:
        sb.access_token()
        if environment.afas_sb_relation_id is None:
            return
        unknown = {r.id.lower(): r for r in sb.unknown_relations()}
    relation = str(environment.afas_sb_relation_id).lower()
    is_unknown = relation in unknown
    if is_unknown != (environment.afas_sb_relation_type == Environment.SbRelationType.UNKNOWN):
        expected = Environment.SbRelationType.UNKNOWN if is_unknown else Environment.SbRelationType.ORGANISATION
        report.add(
            "afas_sb_relation_type",
            Severity.MISSING,
            Msg("afas_setup.sb_relation_type", relation=relation, expected=expected.value),
        )
    elif is_unknown and not unknown[relation].purchase_relation:
        report.add(
            "afas_sb_relation_id", Severity.MISSING, Msg("afas_setup.sb_not_purchase", name=unknown[relation].name)
        )


# --- recording -------------------------------------------------------------------------------------------------------


def _record(environment: Environment, report: AfasSetupReport, actor: User | None) -> None:
    missing = report.missing + ([f"AFAS: {report.failure[:200]}"] if report.failure else [])
    Environment.objects.filter(pk=environment.pk).update(
        afas_setup_checked_at=report.checked_at, afas_setup_missing=missing
    )
    environment.afas_setup_checked_at, environment.afas_setup_missing = report.checked_at, missing
    if report.failure:
        summary = Msg("afas_setup.failed", detail=report.failure)
    elif report.ok:
        summary = Msg("afas_setup.ok", warnings=str(len(report.findings)))
    else:
        summary = Msg("afas_setup.problems", count=str(len(report.missing)))
    event_record(
        environment=environment,
        actor=actor,
        kind=EVENT_KIND,
        message=summary,
        system_actor="afas setup",
        data=report.as_data(),
    )


@dataclass(frozen=True)
class ShownFinding:
    key: str
    severity: str
    text: str  # in the reader's language


@dataclass(frozen=True)
class ShownReport:
    checked_at: datetime | None
    failure: str
    findings: tuple[ShownFinding, ...]
    subject_types: tuple[tuple[int, str], ...]

    @property
    def missing_count(self) -> int:
        return sum(f.severity == Severity.MISSING for f in self.findings)


def afas_setup_shown(data: dict[str, Any] | None) -> ShownReport | None:
    """A recorded report (``AfasSetupReport.as_data``) as the environment page shows it, in the reader's language."""
    if not isinstance(data, dict):
        return None
    findings = tuple(
        ShownFinding(str(f.get("key", "")), str(f.get("severity", "")), render_data(f.get("message")))
        for f in data.get("findings") or ()
        if isinstance(f, dict)
    )
    try:
        checked_at = datetime.fromisoformat(str(data.get("checked_at")))
    except ValueError:
        checked_at = None
    types = tuple(
        (int(t[0]), str(t[1])) for t in data.get("subject_types") or () if isinstance(t, list) and len(t) == 2
    )
    return ShownReport(checked_at, str(data.get("failure") or ""), findings, types)


def afas_setup_last(environment: Environment) -> ShownReport | None:
    """The most recent setup check, as recorded (for the environment page)."""
    event = environment.events.filter(kind=EVENT_KIND).order_by("-created_at", "-pk").only("data").first()
    return afas_setup_shown(event.data) if event is not None else None
