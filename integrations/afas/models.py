"""Typed AFAS objects: what the portal reads from and writes to Profit, parsed at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

# --- environments -------------------------------------------------------------------------------------------


class EnvironmentType(StrEnum):
    PRODUCTION = "production"
    TEST = "test"
    ACCEPT = "accept"

    @property
    def rest_host(self) -> str:
        """The host label AFAS uses: ``{participant}.{rest_host}.afas.online`` (APIS.md 2.1)."""
        return {"production": "rest", "test": "resttest", "accept": "restaccept"}[self.value]


PROFIT_BASE_URL_TEMPLATE = "https://{participant}.{rest_host}.afas.online/ProfitRestServices"
# What the simulator serves (``python manage.py simulate afas --port 8101``).
SIMULATOR_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"


@dataclass(frozen=True)
class ConnectorNames:
    """Names of the connectors the portal uses in an organisation's app connector (README "Setting up AFAS").

    The debtor and dossier GetConnectors are the organisation's own (``Portal_*``) or standard ones; change the
    names here when an administrator chose others.
    """

    debtors: str = "Peppol_Debtors"  # custom GetConnector on Debiteuren exposing EnId, OINr, CcNr, VaId, InPv
    creditors: str = "Profit_Creditor"  # standard
    administrations: str = "Profit_Administrations"  # standard
    dossier_items: str = "ProfitSubjectsAuthorized"  # standard
    dossier_attachments: str = "Profit_Subject_Attachments"  # standard
    # standard: links a dossier item to the sales invoice it belongs to (SalesInvoiceNumber), whatever its type
    dossier_item_files: str = "Profit_SubjectFile"
    dossier_item_types: str = "Profit_SubjectTypes"  # standard: every dossier item type (negative: AFAS's own)
    subject_connector: str = "AppConnectorSubject"  # the attachment download right, added to the app connector
    purchase_invoice: str = "FiElectronicInvoicePurchase"  # UpdateConnector, standard
    sales_relation: str = "KnSalesRelationOrg"  # UpdateConnector, standard
    # Sales invoices are found through their link (Profit_SubjectFile.SalesInvoiceNumber), not through a type number
    # (none is published for them). An environment may narrow it to one dossier item type; None reads every type.
    sales_invoice_subject_type: int | None = None
    # [GUESS G-AFAS-1] a custom GetConnector on Profit's received e-invoices (what FiElectronicInvoicePurchase created), with
    # the fields of ``DeliveredPurchaseInvoice``; the nightly reconciliation reads it. Not required by the connection
    # test: without it the reconciliation reports that AFAS could not be compared.
    delivered_purchase_invoices: str = "Peppol_PurchaseEInvoices"

    @property
    def required_get_connectors(self) -> tuple[str, ...]:
        return (self.debtors, self.creditors, self.dossier_items, self.dossier_attachments, self.dossier_item_files)

    @property
    def required_update_connectors(self) -> tuple[str, ...]:
        return (self.purchase_invoice, self.sales_relation)


# --- GetConnector queries -----------------------------------------------------------------------------------


class Operator(IntEnum):
    """Profit's ``operatortypes`` (OAS ``/connectors/{Endpoint}``)."""

    EQUAL = 1
    GREATER_OR_EQUAL = 2
    LESS_OR_EQUAL = 3
    GREATER = 4
    LESS = 5
    CONTAINS = 6
    NOT_EQUAL = 7
    EMPTY = 8
    NOT_EMPTY = 9
    STARTS_WITH = 10
    NOT_CONTAINS = 11
    NOT_STARTS_WITH = 12
    ENDS_WITH = 13
    NOT_ENDS_WITH = 14
    QUICK_FILTER = 15


@dataclass(frozen=True)
class Condition:
    field: str
    operator: Operator
    value: str = ""  # EMPTY / NOT_EMPTY still send a value ("")

    def __post_init__(self) -> None:
        for forbidden in (",", ";"):
            if forbidden in self.field or forbidden in str(self.value):
                raise ValueError(f"'{forbidden}' separates filters in Profit's query string and cannot be filtered on")


@dataclass(frozen=True)
class Filter:
    """Conditions within a group are ANDed; groups are ORed (``,`` and ``;`` in Profit's query string)."""

    groups: tuple[tuple[Condition, ...], ...] = ()

    @classmethod
    def where(cls, *conditions: Condition) -> Filter:
        return cls((tuple(conditions),)) if conditions else cls()

    @classmethod
    def equals(cls, field: str, value: object) -> Filter:
        return cls.where(Condition(field, Operator.EQUAL, str(value)))

    @classmethod
    def any_of(cls, field: str, values: object, *also: Condition) -> Filter:
        """``field`` equal to one of ``values`` (each group also ANDs ``also``)."""
        return cls(tuple((Condition(field, Operator.EQUAL, str(v)), *also) for v in values))  # type: ignore[attr-defined]

    def and_(self, *conditions: Condition) -> Filter:
        if not self.groups:
            return Filter.where(*conditions)
        return Filter(tuple((*group, *conditions) for group in self.groups))

    def query(self) -> dict[str, str]:
        if not self.groups:
            return {}
        return {
            "filterfieldids": ";".join(",".join(c.field for c in g) for g in self.groups),
            "filtervalues": ";".join(",".join(str(c.value) for c in g) for g in self.groups),
            "operatortypes": ";".join(",".join(str(int(c.operator)) for c in g) for g in self.groups),
        }


@dataclass(frozen=True)
class Page:
    skip: int
    take: int
    rows: tuple[Mapping[str, Any], ...]


# --- metadata and connection test ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaInfo:
    environment_id: str
    app_name: str
    group: str
    token_expiry: str
    get_connectors: tuple[str, ...]
    update_connectors: tuple[str, ...]


class ConnectionProblem(StrEnum):
    NONE = ""
    UNREACHABLE = "unreachable"  # DNS, TLS, refused, timeout
    TOKEN_REJECTED = "token_rejected"  # 401 on /metainfo
    IP_RESTRICTED = "ip_restricted"  # 403
    MAINTENANCE = "maintenance"  # 503
    MISSING_CONNECTORS = "missing_connectors"  # the app connector lacks connectors the portal needs
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    problem: ConnectionProblem
    message: str  # one sentence a person can act on
    environment_id: str = ""
    app_name: str = ""
    profit_version: str = ""
    missing_get_connectors: tuple[str, ...] = ()
    missing_update_connectors: tuple[str, ...] = ()


# --- business objects ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Debtor:
    """A debtor with its e-invoicing fields (custom GetConnector, see ``ConnectorNames.debtors``)."""

    number: str  # DebtorId
    name: str  # DebtorName
    organisation_code: str  # BcCo
    kvk: str  # CcNr
    vat: str  # VaId
    oin: str  # OINr
    econnect_id: str  # EnId, as typed in AFAS (any notation; the portal parses it)
    issue_method: str  # InPv: R = invoice and UBL in the dossier
    email: str
    blocked: bool
    modified_at: datetime | None


@dataclass(frozen=True)
class Creditor:
    number: str  # CreditorId
    name: str
    organisation_code: str
    vat: str  # 'Btw-nummer'
    kvk: str  # ChOfCommNr
    iban: str
    blocked: bool
    modified_at: datetime | None


@dataclass(frozen=True)
class Administration:
    id: int
    name: str
    code: str


@dataclass(frozen=True)
class DossierAttachment:
    attachment_id: int
    subject_id: int
    file_id: str
    file_name: str

    @property
    def is_ubl(self) -> bool:
        return self.file_name.lower().endswith(".xml")

    @property
    def is_pdf(self) -> bool:
        return self.file_name.lower().endswith(".pdf")


@dataclass(frozen=True)
class DossierItem:
    subject_id: int  # SbId, increases with every new item: the cursor
    subject_type: int | None  # SbTy
    submitted_at: datetime | None  # DaSe
    subject: str  # Ds
    memo: str
    status: str
    organisation_code: str  # BcCd: the debtor's organisation
    attachments: tuple[DossierAttachment, ...] = ()
    sales_invoice_number: str = ""  # Profit_SubjectFile.SalesInvoiceNumber: the invoice the item belongs to

    @property
    def ubl_attachment(self) -> DossierAttachment | None:
        return next((a for a in self.attachments if a.is_ubl), None)

    @property
    def pdf_attachment(self) -> DossierAttachment | None:
        return next((a for a in self.attachments if a.is_pdf), None)


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    mimetype: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class ChangedRows:
    """Rows changed since a cursor, and the cursor for next time (unchanged when nothing was found)."""

    rows: tuple[Any, ...]
    cursor: Any


@dataclass(frozen=True)
class UpdateResult:
    """What an UpdateConnector returned: the keys of the record (may be empty: some connectors answer nothing)."""

    connector: str
    status: int
    keys: Mapping[str, Any]


@dataclass(frozen=True)
class DeliveredPurchaseInvoice:
    """One e-invoice Profit received through ``FiElectronicInvoicePurchase``, read back (``ConnectorNames.
    delivered_purchase_invoices``). Profit read the number and date from the UBL itself."""

    entry_id: int  # EntryId
    file_name: str  # FileName: the FXml the portal gave, "{invoice number or eConnect id}.xml"
    invoice_number: str  # InvoiceNumber
    invoice_date: str  # InvoiceDate, as YYYY-MM-DD ("" when Profit could not read it)
    creditor: str  # CreditorId ("" when Profit matched no creditor)
    received_at: datetime | None  # ReceivedOn
