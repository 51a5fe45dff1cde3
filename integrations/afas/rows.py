"""AFAS Profit GetConnector rows as typed objects, and the field ids each reader relies on.

Profit writes missing values as null and date-times as Amsterdam local time with a "Z" that must be ignored
(get-connector.md). The field tables are what ``afas check-setup`` verifies against ``/metainfo/get/{id}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.afas.models import Creditor, Debtor, DossierItem

# Profit's date-times end in "Z" but are Amsterdam local time (APIS.md 2.3: "ignore the Z").
AFAS_TIME_ZONE = ZoneInfo("Europe/Amsterdam")

# The fields each reader uses, by the connector's role in ``ConnectorNames``.
DEBTOR_FIELDS = ("DebtorId", "DebtorName", "BcCo", "CcNr", "VaId", "OINr", "EnId", "InPv", "Email", "Blocked",
                 "ModifiedDate")  # fmt: skip
CREDITOR_FIELDS = ("CreditorId", "CreditorName", "BcCo", "Btw-nummer", "ChOfCommNr", "IBAN", "Blocked",
                   "ModifiedDate")  # fmt: skip
DOSSIER_ITEM_FIELDS = ("SbId", "SbTy", "DaSe", "Ds", "Memo", "Stat", "BcCd")
DOSSIER_ATTACHMENT_FIELDS = ("attachment_id", "subject_id", "file_id", "file_name")
DOSSIER_ITEM_FILE_FIELDS = ("SubjectId", "TypeId", "SalesInvoiceNumber")
DOSSIER_ITEM_TYPE_FIELDS = ("SubjectTypeId", "Description")
ADMINISTRATION_FIELDS = ("AdminId", "AdminNm", "AdminCd")


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        naive = datetime.fromisoformat(value.rstrip("Z").split("+")[0])
    except ValueError:
        return None
    return naive.replace(tzinfo=AFAS_TIME_ZONE)


def format_datetime(value: datetime) -> str:
    """A filter value Profit compares with its (Amsterdam local) date-times."""
    if value.tzinfo is not None:
        value = value.astimezone(AFAS_TIME_ZONE)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def integer(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity (JSON 1e400)
        return None


def flag(row: Mapping[str, Any], key: str) -> bool:
    value = row.get(key)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1", "ja"))


def debtor(row: Mapping[str, Any]) -> Debtor:
    return Debtor(
        number=text(row, "DebtorId"),
        name=text(row, "DebtorName"),
        organisation_code=text(row, "BcCo"),
        kvk=text(row, "CcNr"),
        vat=text(row, "VaId"),
        oin=text(row, "OINr"),
        econnect_id=text(row, "EnId"),
        issue_method=text(row, "InPv"),
        email=text(row, "Email"),
        blocked=flag(row, "Blocked"),
        modified_at=parse_datetime(row.get("ModifiedDate")),
    )


def creditor(row: Mapping[str, Any]) -> Creditor:
    return Creditor(
        number=text(row, "CreditorId"),
        name=text(row, "CreditorName"),
        organisation_code=text(row, "BcCo"),
        vat=text(row, "Btw-nummer"),
        kvk=text(row, "ChOfCommNr"),
        iban=text(row, "IBAN"),
        blocked=flag(row, "Blocked"),
        modified_at=parse_datetime(row.get("ModifiedDate")),
    )


def dossier_item_from_file(row: Mapping[str, Any]) -> DossierItem:
    """A dossier item the token user may not see in ProfitSubjectsAuthorized, from its Profit_SubjectFile link."""
    return DossierItem(
        subject_id=integer(row, "SubjectId") or 0,
        subject_type=integer(row, "TypeId"),
        submitted_at=None,
        subject=text(row, "Subject"),
        memo="",
        status="",
        organisation_code="",
    )


def dossier_item(row: Mapping[str, Any]) -> DossierItem:
    return DossierItem(
        subject_id=integer(row, "SbId") or 0,
        subject_type=integer(row, "SbTy"),
        submitted_at=parse_datetime(row.get("DaSe")),
        subject=text(row, "Ds"),
        memo=text(row, "Memo"),
        status=text(row, "Stat"),
        organisation_code=text(row, "BcCd"),
    )
