"""The AFAS simulator: Profit REST (several environments in one server) and the Small Business endpoints.

URL shape (one server, many environments; the real hosts in comments):
  /{participant}/{rest|resttest|restaccept}/ProfitRestServices/...   https://{participant}.{rest_host}.afas.online/ProfitRestServices/...
  /sb/{domain}/{customer environment}/...                             https://{domain}.afasfocus.nl/{customer environment}/...
Path segments are matched case-insensitively, as Profit does. Control API under /_sim/ (see ``__init__``).
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.parser
import email.policy
import hashlib
import re
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from integrations.afas.simulator import schema
from integrations.afas.simulator.documents import VAT_CASES, build_sales_invoice
from integrations.afas.simulator.getconnectors import QueryError, query_rows
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected, find_ubl_document, parse_untrusted_xml
from integrations.simulators.app import MAX_REQUEST_BYTES, Request, Response, SimulatorApp
from integrations.simulators.control import ControlError, ControlSpec, check_row, check_scalar, check_text
from integrations.simulators.state import StateStore

MAX_QUERY_LENGTH = 2049
PROFIT = r"/(?P<participant>\d+)/(?P<rest_host>rest|resttest|restaccept)/profitrestservices"
SB = r"/sb/(?P<domain>[^/]+)/(?P<scope>[^/]+)"
ENVIRONMENT_TYPES = {"rest": "production", "resttest": "test", "restaccept": "accept"}
SB_ACCESS_TOKEN_SECONDS = 600
SB_CHUNK_SIZE = 5 * 1024 * 1024
MAINTENANCE_MESSAGE = (
    "Service temporarily unavailable due to scheduled maintenance. Please check afasstatus.nl for details."
)
VALIDATION_ERROR = -2147220469
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EDITIONS = ("profit", "small_business")
PARTICIPANT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KVK = re.compile(r"^[0-9]{8}$")
MAX_MAINTENANCE_SECONDS = 7 * 24 * 3600
MAX_LINE_AMOUNT = Decimal("1000000000")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _initial() -> dict[str, Any]:
    return {"environments": {}}


def profit_error(message: str, error_number: int = VALIDATION_ERROR, status: int = 500) -> Response:
    """Profit's error body (and the legacy X-PROFIT-ERROR header, base64 of the message)."""
    body = {"externalMessage": message, "errorNumber": error_number, "profitLogReference": uuid.uuid4().hex.upper()}
    return Response.json(body, status, {"X-PROFIT-ERROR": base64.b64encode(message.encode()).decode()})


def _empty(status: int) -> Response:
    # The OAS documents 401/403/404 with an XML content type and Content-Length 0.
    return Response(status, b"", {"Content-Type": "application/xml; charset=utf-8"})


def environment_key(participant: str, environment_type: str) -> str:
    return f"{participant}-{environment_type}"


def new_environment(
    *,
    participant: str,
    environment_type: str,
    edition: str = "profit",
    organisation: dict[str, Any],
    tokens: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    prefix = {"production": "O", "test": "T", "accept": "A"}[environment_type]
    return {
        "participant": participant,
        "environment_type": environment_type,
        "edition": edition,
        "organisation": organisation,
        "envid": f"{prefix}{participant}AA",
        "tokens": {t["token"].strip(): {"connectors": t.get("connectors")} for t in tokens or []},
        "settings": {
            "maintenance_retry_after": None,
            "ip_blocked": False,
            "update_response_shape": "default",
            "profit_version": schema.PROFIT_VERSION,
        },
        "get_connectors": {
            name: {"description": spec["description"], "fields": spec["fields"], "rows": []}
            for name, spec in copy.deepcopy(schema.GET_CONNECTOR_FIELDS).items()
        },
        "files": {},
        "next": {"subject_id": 1001, "attachment_id": 5001, "invoice": 1, "debtor": 20001},
        "delivered": {"purchase_invoices": [], "journal_entries": []},
        "sb": {"access_tokens": {}, "blobs": {}, "tracking": {}, "ledger_accounts": [], "relations": []},
    }


class AfasSimulator(SimulatorApp):
    """Control API (JSON), besides the kit's ``GET /_sim/health``, ``POST /_sim/reset``, ``GET|POST|DELETE /_sim/faults``:

    - ``POST /_sim/seed``: load the demo world (idempotent).
    - ``POST /_sim/fixtures`` ``{"environments": [{participant, environment_type, edition, organisation: {name, kvk,
      vat?}, tokens: [{token, connectors: null|[names]}], debtors, creditors, administrations, rows: {connector: [..]},
      sb_ledger_accounts, sb_relations}]}``: add or replace environments.
    - ``GET /_sim/environments``: keys and counts.
    - ``POST /_sim/environments/{key}/settings`` ``{maintenance_retry_after: int|null, ip_blocked: bool,
      update_response_shape: default|results|bare|empty, profit_version}``.
    - ``POST /_sim/environments/{key}/rows/{connector}`` ``{"rows": [...]}``: append GetConnector rows.
    - ``POST /_sim/environments/{key}/{debtors|creditors}/{number}`` ``{field: value}``: change (or add) a debtor or
      creditor row as a person in Profit would; its ModifiedDate becomes now.
    - ``DELETE /_sim/environments/{key}/{debtors|creditors}/{number}``: delete it (it disappears from the
      GetConnector, as in Profit).
    - ``POST /_sim/environments/{key}/sales-invoices`` ``{debtor, lines: [{description, quantity, price, vat}], number?,
      issue_date?}``: issue a sales invoice as Profit does with issue method R: a dossier item with UBL and PDF.
    - ``GET /_sim/environments/{key}/delivered``: purchase invoices received via FiElectronicInvoicePurchase and SB
      journal entries, with the exact bytes (base64) and their SHA-256.

    Fault operations: ``GET /connectors/<name>``, ``POST /connectors/<name>``, ``PUT /connectors/<name>``,
    ``GET /metainfo``, ``GET /metainfo/<get|update>/<name>``, ``GET /profitversion``, ``GET /SubjectConnector``,
    ``SB POST /authentication/getaccesstoken``, ``SB PUT /api/blob``, ``SB GET /api/blob``,
    ``SB POST /api/purchasejournalentry``.
    """

    name = "afas"

    def __init__(self, state_dir: Path | None = None):
        super().__init__()
        self.state = StateStore(state_dir, name="afas", initial=_initial)
        # Profit
        self.route("GET", PROFIT + r"/connectors/(?P<connector>[^/]+)", self.get_connector,
                   operation="GET /connectors/{connector}", ignore_case=True)  # fmt: skip
        for method in ("POST", "PUT"):
            self.route(method, PROFIT + r"/connectors/(?P<connector>[^/]+)", self.update_connector,
                       operation=f"{method} /connectors/{{connector}}", ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/metainfo", self.metainfo, operation="GET /metainfo", ignore_case=True)
        self.route("GET", PROFIT + r"/metainfo/(?P<kind>get|update)/(?P<connector>[^/]+)", self.metainfo_connector,
                   operation="GET /metainfo/{kind}/{connector}", ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/profitversion", self.profit_version, operation="GET /profitversion",
                   ignore_case=True)  # fmt: skip
        self.route("GET", PROFIT + r"/subjectconnector(?:/(?P<subject>\d+)/(?P<file>[^/]+))?", self.subject_connector,
                   operation="GET /SubjectConnector", ignore_case=True)  # fmt: skip
        # Small Business
        self.route("POST", SB + r"/authentication/getaccesstoken", self.sb_access_token,
                   operation="SB POST /authentication/getaccesstoken", ignore_case=True)  # fmt: skip
        self.route("PUT", SB + r"/api/blob/(?P<blob>[0-9a-fA-F-]{36})", self.sb_put_blob, operation="SB PUT /api/blob",
                   ignore_case=True)  # fmt: skip
        self.route("GET", SB + r"/api/blob/(?P<blob>[0-9a-fA-F-]{36})", self.sb_get_blob, operation="SB GET /api/blob",
                   ignore_case=True)  # fmt: skip
        self.route("POST", SB + r"/api/purchasejournalentry", self.sb_journal_entry,
                   operation="SB POST /api/purchasejournalentry", ignore_case=True)  # fmt: skip
        # control
        self.route("POST", r"/_sim/seed", self._sim_seed)
        self.route("POST", r"/_sim/fixtures", self._sim_fixtures)
        self.route("GET", r"/_sim/environments", self._sim_environments)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/settings", self._sim_settings)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/rows/(?P<connector>[^/]+)", self._sim_rows)
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/(?P<kind>debtors|creditors)/(?P<number>[^/]+)",
                   self._sim_change_relation)  # fmt: skip
        self.route("DELETE", r"/_sim/environments/(?P<key>[^/]+)/(?P<kind>debtors|creditors)/(?P<number>[^/]+)",
                   self._sim_delete_relation)  # fmt: skip
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/sales-invoices", self._sim_sales_invoice)
        self.route("GET", r"/_sim/environments/(?P<key>[^/]+)/delivered", self._sim_delivered)
        self.route("DELETE", r"/_sim/environments/(?P<key>[^/]+)/delivered/purchase-invoices/(?P<entry>\d+)",
                   self._sim_remove_delivered)  # fmt: skip

    def reset(self) -> None:
        self.state.reset()

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        return self.state.data["environments"]

    def handle(self, request: Request) -> Response:
        # Profit's proxy refuses a query string over 2049 characters with 404, before anything else.
        if len(request.query_string) > MAX_QUERY_LENGTH and not request.path.startswith("/_sim/"):
            return _empty(404)
        return super().handle(request)  # route handlers run under the state lock (SimulatorApp.handler_lock)

    # --- Profit: the checks every call passes ---------------------------------------------------------------
    def _profit_env(
        self, request: Request, participant: str, rest_host: str
    ) -> tuple[dict | None, Any, Response | None]:
        """(environment, token entry, refusal). Maintenance, IP restriction, then the token."""
        env = self.environments.get(environment_key(participant, ENVIRONMENT_TYPES[rest_host.lower()]))
        if env is None or env["edition"] != "profit":
            return None, None, _empty(404)
        settings = env["settings"]
        if settings.get("maintenance_retry_after") is not None:
            seconds = int(settings["maintenance_retry_after"])
            body = {"error": {"code": "503", "message": MAINTENANCE_MESSAGE}, "retry_after": seconds}
            return None, None, Response.json(body, 503, {"Retry-After": str(seconds)})
        if settings.get("ip_blocked"):
            return None, None, _empty(403)
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "afastoken" or not value.strip():
            return None, None, _empty(401)
        try:
            token = base64.b64decode(value.strip(), validate=True).decode("utf-8").strip()
        except (binascii.Error, ValueError):
            # Profit 6: a token that is not base64 (e.g. the plain XML) is an error, not a 401.
            return None, None, profit_error("The token is not base64 encoded.", -2147467259)
        entry = env["tokens"].get(token)
        if entry is None:
            return None, None, _empty(401)
        return env, entry, None

    @staticmethod
    def _allowed(entry: dict[str, Any], connector: str) -> bool:
        allowed = entry.get("connectors")
        return allowed is None or connector.lower() in {c.lower() for c in allowed}

    @staticmethod
    def _find(mapping: dict[str, Any], name: str) -> str | None:
        return next((key for key in mapping if key.lower() == name.lower()), None)

    # --- Profit endpoints ---------------------------------------------------------------------------------------
    def get_connector(self, request: Request, participant: str, rest_host: str, connector: str) -> Response:
        env, entry, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        if connector.lower() == schema.NAMES.delivered_purchase_invoices.lower() and self._allowed(entry, connector):
            return self._delivered_purchase_invoices(env, request)
        name = self._find(env["get_connectors"], connector)
        if name is None or not self._allowed(entry, name):
            if self._find(schema.UPDATE_CONNECTORS, connector) and self._allowed(entry, connector):
                return profit_error(f"GetConnector '{connector}' does not exist.")
            return _empty(401)  # "GetConnector not supported for this app or the user is not authorized"
        definition = env["get_connectors"][name]
        query = {key: request.query_value(key) for key in
                 ("skip", "take", "orderbyfieldids", "filterfieldids", "filtervalues", "operatortypes")}  # fmt: skip
        try:
            skip, take, rows = query_rows(definition["rows"], [f["id"] for f in definition["fields"]], query)
        except QueryError as exc:
            return profit_error(exc.message, exc.error_number)
        field_ids = [f["id"] for f in definition["fields"]]
        return Response.json({"skip": skip, "take": take, "rows": [{f: row.get(f) for f in field_ids} for row in rows]})

    def _delivered_purchase_invoices(self, env: dict[str, Any], request: Request) -> Response:
        """The e-invoices received via FiElectronicInvoicePurchase as a GetConnector (``schema.
        DELIVERED_PURCHASE_INVOICE_FIELDS``), with Profit's paging, filters and ordering. A delivery removed with
        ``DELETE /_sim/environments/{key}/delivered/purchase-invoices/{id}`` (someone deleted it in AFAS) is gone."""
        fields = schema.DELIVERED_PURCHASE_INVOICE_FIELDS
        rows = [self._delivered_row(delivery) for delivery in env["delivered"]["purchase_invoices"]]
        query = {key: request.query_value(key) for key in
                 ("skip", "take", "orderbyfieldids", "filterfieldids", "filtervalues", "operatortypes")}  # fmt: skip
        try:
            skip, take, rows = query_rows(rows, [f["id"] for f in fields], query)
        except QueryError as exc:
            return profit_error(exc.message, exc.error_number)
        return Response.json({"skip": skip, "take": take, "rows": rows})

    def _delivered_row(self, delivery: dict[str, Any]) -> dict[str, Any]:
        """Profit reads the invoice number and date from the UBL (read once per document and kept)."""
        cache = self.__dict__.setdefault("_delivered_read", {})
        key = delivery.get("xml_sha256") or f"pdf-{delivery['id']}"
        if key not in cache:
            number, issued = "", ""
            if delivery.get("xml_b64"):
                try:
                    summary = parse_document(base64.b64decode(delivery["xml_b64"]))
                    number = summary.number or ""
                    issued = summary.issue_date.isoformat() if summary.issue_date else ""
                except (XmlRejected, ValueError, binascii.Error):
                    pass
            cache[key] = (number, issued)
        number, issued = cache[key]
        received = datetime.strptime(delivery["received_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return {
            "EntryId": delivery["id"],
            "FileName": delivery.get("xml_filename") or delivery.get("pdf_filename"),
            "InvoiceNumber": number or None,
            "InvoiceDate": f"{issued}T00:00:00Z" if issued else None,
            "CreditorId": delivery.get("matched_creditor"),
            # Profit writes Amsterdam local time with a "Z" (APIS.md 2.3).
            "ReceivedOn": received.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def metainfo(self, request: Request, participant: str, rest_host: str) -> Response:
        env, entry, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        gets = [{"id": n, "description": c["description"]} for n, c in env["get_connectors"].items()]
        gets.append({"id": schema.NAMES.delivered_purchase_invoices, "description": "Ontvangen e-inkoopfacturen"})
        updates = [{"id": n, "description": d} for n, d in schema.UPDATE_CONNECTORS.items()]
        return Response.json(
            {
                "updateConnectors": [u for u in updates if self._allowed(entry, u["id"])],
                "getConnectors": [g for g in gets if self._allowed(entry, g["id"])],
                "info": {
                    "envid": env["envid"],
                    "appName": "Peppol bridge",
                    "group": f"AuthorizationGroup 101 ({env['participant']}.PEPPOL)",
                    "tokenExpiry": "0",
                },
            }
        )

    def metainfo_connector(self, request: Request, participant: str, rest_host: str, kind: str, connector: str):
        env, entry, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        if kind.lower() == "get":
            name = self._find(env["get_connectors"], connector)
            if name is None or not self._allowed(entry, name):
                return _empty(401)
            definition = env["get_connectors"][name]
            return Response.json(
                {"name": name, "description": definition["description"], "fields": definition["fields"]}
            )
        name = self._find(schema.UPDATE_CONNECTORS, connector)
        if name is None or not self._allowed(entry, name):
            return _empty(401)
        fields = (
            schema.PURCHASE_INVOICE_FIELDS if name == schema.NAMES.purchase_invoice else schema.SALES_RELATION_FIELDS
        )
        # [INFERRED] the shape of /metainfo/update is not published; the simulator mirrors /metainfo/get.
        return Response.json(
            {
                "name": name,
                "description": schema.UPDATE_CONNECTORS[name],
                "fields": [{"id": f, "fieldId": f, "dataType": "string", "label": f} for f in fields],
            }  # fmt: skip
        )

    def profit_version(self, request: Request, participant: str, rest_host: str) -> Response:
        env, _, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        return Response.json({"version": env["settings"]["profit_version"]})

    def subject_connector(self, request: Request, participant: str, rest_host: str, subject=None, file=None):
        env, entry, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        subject = subject or request.query_value("SubjectId")
        file_id = file or request.query_value("FileId")
        if not subject or not file_id:
            return _empty(400)
        stored = env["files"].get(file_id.upper())
        if stored is None or str(stored["subject_id"]) != str(subject):
            return profit_error("The requested file does not exist.")
        return Response.json(
            {"filename": stored["filename"], "mimetype": stored["mimetype"], "filedata": stored["data"]}
        )

    # --- Profit UpdateConnectors ----------------------------------------------------------------------------
    def update_connector(self, request: Request, participant: str, rest_host: str, connector: str) -> Response:
        env, entry, refusal = self._profit_env(request, participant, rest_host)
        if refusal:
            return refusal
        name = self._find(schema.UPDATE_CONNECTORS, connector)
        if name is None or not self._allowed(entry, name):
            return _empty(401)
        try:
            body = request.json()
        except ValueError:
            return _empty(400)
        if not isinstance(body, dict) or not isinstance(body.get(name), dict) or "Element" not in body[name]:
            return profit_error(f"The request does not contain the element '{name}'.")
        elements = body[name]["Element"]
        elements = elements if isinstance(elements, list) else [elements]
        if not elements or not all(isinstance(e, dict) for e in elements):
            return profit_error(f"The element '{name}' is empty.")
        if name == schema.NAMES.purchase_invoice:
            if request.method != "POST":
                return _empty(405)
            result = self._purchase_invoice(env, elements)
        else:
            result = self._sales_relation(env, elements, insert=request.method == "POST")
        if isinstance(result, Response):
            return result
        self.state.save()
        return self._update_response(env, name, result)

    @staticmethod
    def _update_response(env: dict[str, Any], connector: str, keys: dict[str, Any] | None) -> Response:
        shape = env["settings"].get("update_response_shape", "default")
        if shape == "default":
            shape = "empty" if keys is None else "results"
        if shape == "empty":
            return Response(201, b"", {})
        if shape == "bare":
            return Response.json({connector: keys or {}}, 201)
        return Response.json({"results": {connector: keys or {}}}, 201)

    @staticmethod
    def _objects(element: dict[str, Any]) -> dict[str, Any]:
        """``Objects`` as one mapping, whether Profit got an object or an array of single-key objects."""
        objects = element.get("Objects") or {}
        if isinstance(objects, list):
            merged: dict[str, Any] = {}
            for item in objects:
                if isinstance(item, dict):
                    merged.update(item)
            return merged
        return objects if isinstance(objects, dict) else {}

    def _purchase_invoice(self, env: dict[str, Any], elements: list[dict[str, Any]]) -> Response | None:
        if len(elements) != 1:
            return profit_error("FiElectronicInvoicePurchase accepts one invoice per call.")
        fields = elements[0].get("Fields")
        if not isinstance(fields, dict):
            return profit_error("The element 'Fields' is missing.")
        unknown = [f for f in fields if f not in schema.PURCHASE_INVOICE_FIELDS]
        if unknown:
            return profit_error(f"Field '{unknown[0]}' is unknown for FiElectronicInvoicePurchase.")
        odd = [f for f, value in fields.items() if not _profit_value(value, MAX_REQUEST_BYTES)]  # XML/PDF: base64
        if odd:
            return profit_error(f"The entered value for '{odd[0]}' is not valid.")
        if not fields.get("XML") and not fields.get("PDF"):
            return profit_error("Provide an XML file or a PDF file.")
        decoded: dict[str, bytes] = {}
        for key in ("XML", "PDF"):
            if fields.get(key):
                try:
                    decoded[key] = base64.b64decode(str(fields[key]), validate=True)
                except (binascii.Error, ValueError):
                    return profit_error(f"The content of '{key}' is not valid base64.")
        # The official example sends "1"; Profit's JSON takes booleans as true/false, "1"/"0" or "true"/"false".
        process = fields.get("Proc", False)
        if isinstance(process, str) and process.lower() in ("1", "0", "true", "false"):
            process = process.lower() in ("1", "true")
        if not isinstance(process, bool):
            return profit_error("The entered value for 'Direct verwerken e-factuurregels' is not valid.")
        supplier = None
        if "XML" in decoded:
            try:
                find_ubl_document(parse_untrusted_xml(decoded["XML"]))
                summary = parse_document(decoded["XML"])
            except (XmlRejected, ValueError) as exc:
                return profit_error(f"The XML file is not a valid e-invoice (UBL): {exc}")
            supplier = summary.supplier
        administrations = env["get_connectors"][schema.NAMES.administrations]["rows"]
        unit = fields.get("UnId")
        if unit is not None and not any(str(r.get("AdminId")) == str(unit) for r in administrations):
            return profit_error("The entered value for 'Administration' does not exist.")
        creditor = None
        if supplier is not None:
            ids = {i.value.upper() for i in supplier.all_identifiers} | {v.upper() for v in supplier.vat_ids}
            for row in env["get_connectors"][schema.NAMES.creditors]["rows"]:
                if {str(row.get("Btw-nummer") or "").upper(), str(row.get("ChOfCommNr") or "").upper()} & ids - {""}:
                    creditor = row.get("CreditorId")
                    break
        delivered = env["delivered"]["purchase_invoices"]
        delivered.append(
            {
                "id": len(delivered) + 1,
                "received_at": _now(),
                "xml_filename": fields.get("FXml"),
                "xml_b64": fields.get("XML"),
                "xml_sha256": hashlib.sha256(decoded["XML"]).hexdigest() if "XML" in decoded else None,
                "pdf_filename": fields.get("FPdf"),
                "pdf_b64": fields.get("PDF"),
                "pdf_sha256": hashlib.sha256(decoded["PDF"]).hexdigest() if "PDF" in decoded else None,
                "administration": unit,
                "process_directly": process,
                "matched_creditor": creditor,
            }
        )
        return None  # documented: 201 without a body

    def _sales_relation(self, env: dict[str, Any], elements: list[dict[str, Any]], *, insert: bool):
        rows = env["get_connectors"][schema.NAMES.debtors]["rows"]
        keys: dict[str, Any] = {}
        for element in elements:
            fields = element.get("Fields") or {}
            if not isinstance(fields, dict):
                return profit_error("The element 'Fields' is not valid.")
            unknown = [f for f in fields if f not in schema.SALES_RELATION_FIELDS]
            if unknown:
                return profit_error(f"Field '{unknown[0]}' is unknown for KnSalesRelationOrg.")
            odd = [f for f, value in fields.items() if not _profit_value(value)]
            if odd:
                return profit_error(f"The entered value for '{odd[0]}' is not valid.")
            if len(str(fields.get("EnId") or "")) > 50:
                return profit_error("The value for 'eConnection company ID' is longer than 50 characters.")
            if fields.get("InPv") not in (None, *schema.ISSUE_METHODS):
                return profit_error(
                    f"The entered value for 'Preferred issue method' ({fields['InPv']}) does not exist."
                )
            debtor_id = str(element.get("@DbId") or fields.get("DbId") or "")
            organisation = self._objects(element).get("KnOrganisation")
            if insert:
                element = organisation.get("Element") if isinstance(organisation, dict) else None
                org_fields = element.get("Fields") if isinstance(element, dict) else None
                if not isinstance(org_fields, dict) or not org_fields.get("Nm"):
                    return profit_error("The field 'Name' (Nm) of the organisation is required.")
                odd = [f for f, value in org_fields.items() if not _profit_value(value)]
                if odd:
                    return profit_error(f"The entered value for '{odd[0]}' is not valid.")
                if any(str(r["DebtorId"]) == debtor_id for r in rows if debtor_id):
                    return profit_error(f"The debtor '{debtor_id}' already exists.")
                if not debtor_id:
                    debtor_id = str(env["next"]["debtor"])
                    env["next"]["debtor"] += 1
                code = str(org_fields.get("BcCo") or f"ORG{debtor_id}")
                row = {"DebtorId": debtor_id, "DebtorName": org_fields["Nm"], "BcCo": code,
                       "CcNr": org_fields.get("CcNr"), "Blocked": False}  # fmt: skip
                rows.append(row)
            else:
                if not debtor_id:
                    return profit_error("The key field 'Debtor' (DbId) is required.")
                row = next((r for r in rows if str(r["DebtorId"]) == debtor_id), None)
                if row is None:
                    return profit_error("The entered value for 'Debtor' does not exist.")
            for field in ("EnId", "OINr", "InPv", "VaId"):
                if field in fields:
                    row[field] = fields[field] or None  # "" clears a field
            if "Bl" in fields:
                row["Blocked"] = bool(fields["Bl"])
            row["ModifiedDate"] = _now()
            keys = {"DbId": row["DebtorId"], "BcCo": row["BcCo"]}
        return keys

    # --- Small Business ---------------------------------------------------------------------------------------
    def _sb_env(self, scope: str) -> dict[str, Any] | None:
        # [GUESS] the customer environment in the SB URL is the portal's participant number for that environment.
        return next(
            (e for e in self.environments.values() if e["edition"] == "small_business" and e["participant"] == scope),
            None,
        )

    @staticmethod
    def _sb_error(status: int, field: str, message: str) -> Response:
        body = {"result": "Failed", "traceId": str(uuid.uuid4()), "instances": [], "errors": [{field: message}]}
        return Response.json(body, status)

    def _sb_authorised(self, request: Request, scope: str) -> tuple[dict | None, Response | None]:
        env = self._sb_env(scope)
        if env is None:
            return None, Response.json({"error": "unknown environment"}, 404)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expiry = env["sb"]["access_tokens"].get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.time():
            return None, Response.json({"error": "invalid_token"}, 401)  # [GUESS] body
        return env, None

    def sb_access_token(self, request: Request, domain: str, scope: str) -> Response:
        env = self._sb_env(scope)
        if env is None:
            return Response.json({"error": "unknown environment"}, 404)
        try:
            body = request.json()
        except ValueError:
            body = None
        apptoken = body.get("apptoken") if isinstance(body, dict) else None
        if not isinstance(apptoken, str) or apptoken.strip() not in env["tokens"]:
            return Response.json({"error": "invalid_grant", "error_description": "invalid app token"}, 401)  # [GUESS]
        access = uuid.uuid4().hex + uuid.uuid4().hex
        env["sb"]["access_tokens"] = {t: e for t, e in env["sb"]["access_tokens"].items() if e > time.time()} | {
            access: time.time() + SB_ACCESS_TOKEN_SECONDS
        }
        self.state.save()
        return Response.json(
            {"access_token": access, "expires_in": str(SB_ACCESS_TOKEN_SECONDS), "token_type": "bearer"}
        )

    def sb_put_blob(self, request: Request, domain: str, scope: str, blob: str) -> Response:
        env, refusal = self._sb_authorised(request, scope)
        if refusal:
            return refusal
        blob = blob.lower()
        blobs = env["sb"]["blobs"]
        if not request.body:
            try:
                length = int(request.headers.get("blob-content-length", ""))
            except ValueError:
                return self._sb_error(400, "Blob-Content-Length", "Blob-Content-Length is required.")
            filename = request.headers.get("blob-content-filename", "")
            content_type = request.headers.get("blob-content-type", "")
            if not filename or not content_type:
                return self._sb_error(400, "Blob", "Blob-Content-FileName and Blob-Content-Type are required.")
            blobs[blob] = {"filename": filename, "content_type": content_type, "length": length, "data": None}
            self.state.save()
            return Response.json({"BlobAccepted": True, "ChunkSize": SB_CHUNK_SIZE})
        reserved = blobs.get(blob)
        if reserved is None:
            return self._sb_error(400, "Blob", "Reserve the blob space first.")
        content = _multipart_file(request)
        if content is None:
            return self._sb_error(400, "file", "The body must be multipart/form-data with a 'file' part.")
        if len(content) != reserved["length"]:
            return self._sb_error(400, "Blob-Content-Length", "The file length differs from the reserved length.")
        reserved["data"] = base64.b64encode(content).decode("ascii")
        self.state.save()
        return Response(200, b"", {})

    def sb_get_blob(self, request: Request, domain: str, scope: str, blob: str) -> Response:
        env, refusal = self._sb_authorised(request, scope)
        if refusal:
            return refusal
        stored = env["sb"]["blobs"].get(blob.lower())
        if not stored or stored["data"] is None:
            return Response.json({"error": "not found"}, 404)
        return Response(200, base64.b64decode(stored["data"]), {"Content-Type": stored["content_type"]})

    def sb_journal_entry(self, request: Request, domain: str, scope: str) -> Response:
        env, refusal = self._sb_authorised(request, scope)
        if refusal:
            return refusal
        if not request.headers.get("accept-version"):
            return self._sb_error(400, "Accept-Version", "The Accept-Version header is required.")
        tracking = request.headers.get("tracking-identifier", "")
        if tracking and tracking in env["sb"]["tracking"]:
            return Response.json(env["sb"]["tracking"][tracking])  # the same answer as the first time
        try:
            body = request.json()
        except ValueError:
            return self._sb_error(400, "body", "Invalid JSON.")
        problem = _journal_entry_problem(body, env)
        if problem:
            return self._sb_error(400, *problem)
        entries = env["delivered"]["journal_entries"]
        number = f"IF{date.today():%y}{len(entries) + 1:04d}"
        invoice_id = str(uuid.uuid4())
        attachments = []
        for item in body.get("Attachments") or []:
            stored = env["sb"]["blobs"][item["AttachmentId"].lower()]
            attachments.append({"id": item["AttachmentId"], "filename": stored["filename"],
                                "content_type": stored["content_type"], "data_b64": stored["data"],
                                "sha256": hashlib.sha256(base64.b64decode(stored["data"])).hexdigest()})  # fmt: skip
        entries.append({"id": invoice_id, "number": number, "received_at": _now(), "tracking_identifier": tracking,
                        "entry": body, "attachments": attachments})  # fmt: skip
        answer = {
            "result": "Succeeded",
            "instances": [{"Code": "Inkoopfactuur", "Id": invoice_id, "Nummer": number}],
            "errors": [],
        }
        if tracking:
            env["sb"]["tracking"][tracking] = answer
        self.state.save()
        return Response.json(answer)

    # --- control API ----------------------------------------------------------------------------------------
    def _sim_seed(self, request: Request) -> Response:
        from integrations.afas.simulator.demo import seed_demo

        seed_demo(self)
        return Response.json({"environments": sorted(self.environments)})

    def load_environment(self, spec: dict[str, Any]) -> str:
        """Add or replace one environment (the ``/_sim/fixtures`` shape); ``ControlError`` naming a wrong field."""
        spec = environment_spec(spec)
        env = new_environment(
            participant=str(spec["participant"]),
            environment_type=spec.get("environment_type", "production"),
            edition=spec.get("edition", "profit"),
            organisation=spec.get("organisation") or {"name": "Demo B.V.", "kvk": "12345678"},
            tokens=spec.get("tokens") or [],
        )
        connectors = env["get_connectors"]
        for key, connector in (("debtors", schema.NAMES.debtors), ("creditors", schema.NAMES.creditors),
                               ("administrations", schema.NAMES.administrations)):  # fmt: skip
            connectors[connector]["rows"].extend(spec.get(key) or [])
        for connector, definition in (spec.get("get_connectors") or {}).items():
            connectors[connector] = {"description": definition.get("description", connector),
                                     "fields": definition["fields"], "rows": definition.get("rows", [])}  # fmt: skip
        for connector, rows in (spec.get("rows") or {}).items():
            connectors[connector]["rows"].extend(rows)
        env["sb"]["ledger_accounts"] = spec.get("sb_ledger_accounts") or []
        env["sb"]["relations"] = spec.get("sb_relations") or []
        key = environment_key(env["participant"], env["environment_type"])
        with self.state.lock:
            self.environments[key] = env
            self.state.save()
        return key

    def _sim_fixtures(self, request: Request) -> Response:
        spec = request.control_spec().only("environments")
        environments = spec.list("environments", max_items=1000)
        # All checked before any is loaded: a refused request changes nothing.
        specs = [environment_spec(item, where=f"environments[{index}]") for index, item in enumerate(environments)]
        keys = [self.load_environment(item) for item in specs]
        return Response.json({"loaded": keys}, 201)

    def _sim_environments(self, request: Request) -> Response:
        return Response.json(
            {
                key: {
                    "edition": env["edition"],
                    "organisation": env["organisation"],
                    "rows": {name: len(c["rows"]) for name, c in env["get_connectors"].items()},
                    "settings": env["settings"],
                }
                for key, env in self.environments.items()
            }
        )

    def _env_or_404(self, key: str) -> dict[str, Any] | Response:
        env = self.environments.get(key)
        return env if env is not None else Response.json({"error": f"no environment {key}"}, 404)

    def _sim_settings(self, request: Request, key: str) -> Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        spec = request.control_spec()
        unknown = sorted(set(spec.data) - set(env["settings"]))
        if unknown:
            raise ControlError(f"unknown settings: {unknown}; known: {sorted(env['settings'])}")
        changes = {}
        if spec.has("maintenance_retry_after"):
            changes["maintenance_retry_after"] = spec.number(
                "maintenance_retry_after", integer=True, minimum=0, maximum=MAX_MAINTENANCE_SECONDS, nullable=True
            )
        if spec.has("ip_blocked"):
            changes["ip_blocked"] = spec.boolean("ip_blocked")
        if spec.has("update_response_shape"):
            changes["update_response_shape"] = spec.text(
                "update_response_shape", choices=("default", "results", "bare", "empty")
            )
        if spec.has("profit_version"):
            changes["profit_version"] = spec.text("profit_version", allow_empty=False, max_length=50)
        with self.state.lock:
            env["settings"].update(changes)
            self.state.save()
        return Response.json(env["settings"])

    def _sim_rows(self, request: Request, key: str, connector: str) -> Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        name = self._find(env["get_connectors"], connector)
        if name is None:
            return Response.json({"error": f"no GetConnector {connector}"}, 404)
        rows = request.control_spec().only("rows").rows("rows", [])
        with self.state.lock:
            env["get_connectors"][name]["rows"].extend(rows)
            self.state.save()
        return Response.json({"rows": len(env["get_connectors"][name]["rows"])}, 201)

    def _relation_rows(self, key: str, kind: str) -> tuple[list[dict[str, Any]], str] | Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        name, key_field = (
            (schema.NAMES.debtors, "DebtorId") if kind == "debtors" else (schema.NAMES.creditors, "CreditorId")
        )
        return env["get_connectors"][name]["rows"], key_field

    def _sim_change_relation(self, request: Request, key: str, kind: str, number: str) -> Response:
        found = self._relation_rows(key, kind)
        if isinstance(found, Response):
            return found
        rows, key_field = found
        changes = check_row(request.control_json(dict), "the body")
        if changes.get("ModifiedDate") is not None and not isinstance(changes["ModifiedDate"], str):
            raise ControlError("ModifiedDate: must be a date and time as text (or null for now)")
        with self.state.lock:
            row = next((r for r in rows if str(r.get(key_field)) == number), None)
            status = 200
            if row is None:
                row, status = {key_field: number, "Blocked": False}, 201
                rows.append(row)
            row.update({field: value for field, value in changes.items() if field != key_field})
            row["ModifiedDate"] = changes.get("ModifiedDate") or _now()
            self.state.save()
        return Response.json(row, status)

    def _sim_delete_relation(self, request: Request, key: str, kind: str, number: str) -> Response:
        found = self._relation_rows(key, kind)
        if isinstance(found, Response):
            return found
        rows, key_field = found
        with self.state.lock:
            before = len(rows)
            rows[:] = [r for r in rows if str(r.get(key_field)) != number]
            self.state.save()
        if len(rows) == before:
            return Response.json({"error": f"no {kind[:-1]} {number}"}, 404)
        return Response.json({"deleted": number})

    def issue_sales_invoice(
        self,
        key: str,
        *,
        debtor: str,
        lines: list[dict[str, Any]],
        number: str | None = None,
        issue_date: date | None = None,
    ) -> dict[str, Any]:
        """File a sales invoice in the debtor's dossier with its UBL and PDF, as Profit does with issue method R."""
        with self.state.lock:
            env = self.environments[key]
            row = next(
                (r for r in env["get_connectors"][schema.NAMES.debtors]["rows"] if str(r.get("DebtorId")) == debtor),
                None,
            )
            if row is None:
                raise KeyError(f"no debtor {debtor} in {key}")
            issue_date = issue_date or date.today()
            number = number or f"{issue_date:%Y}{env['next']['invoice']:05d}"
            files = build_sales_invoice(organisation=env["organisation"], debtor=row, number=number,
                                        issue_date=issue_date, lines=lines)  # fmt: skip
            env["next"]["invoice"] += 1  # only once the invoice could be built: a refused one uses no number
            subject_id = env["next"]["subject_id"]
            env["next"]["subject_id"] += 1
            env["get_connectors"][schema.NAMES.dossier_items]["rows"].append(
                {
                    "SbTy": schema.NAMES.sales_invoice_subject_type,
                    "SbId": subject_id,
                    "DaSe": f"{issue_date.isoformat()}T00:00:00Z",
                    "Ds": f"Factuur {number}",
                    "Memo": f"Verkoopfactuur {number} ({files.total} EUR)",
                    "Stat": "Verstrekt",
                    "DoId": subject_id,
                    "BcId": None,
                    "BcCd": row.get("BcCo"),
                    "ToEr": False,
                }
            )
            attachments = []
            for filename, mimetype, content in (
                (f"{number}.xml", "application/xml", files.ubl),
                (f"{number}.pdf", "application/pdf", files.pdf),
            ):
                file_id = uuid.uuid4().hex.upper()
                attachment_id = env["next"]["attachment_id"]
                env["next"]["attachment_id"] += 1
                env["files"][file_id] = {"subject_id": subject_id, "filename": filename, "mimetype": mimetype,
                                         "data": base64.b64encode(content).decode("ascii")}  # fmt: skip
                env["get_connectors"][schema.NAMES.dossier_attachments]["rows"].append(
                    {
                        "attachment_id": attachment_id,
                        "subject_id": subject_id,
                        "file_id": file_id,
                        "file_name": filename,
                    }
                )
                attachments.append({"file_id": file_id, "file_name": filename})
            self.state.save()
        return {"subject_id": subject_id, "number": number, "total": files.total, "attachments": attachments}

    def _sim_sales_invoice(self, request: Request, key: str) -> Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        spec = request.control_spec().only("debtor", "lines", "number", "issue_date")
        debtor = spec.text("debtor", numbers=True, allow_empty=False, max_length=50)
        lines = [_sales_line(line) for line in spec.objects("lines", None, max_items=500, nullable=True) or []]
        number = spec.text("number", None, nullable=True, allow_empty=False, max_length=50)
        issued = spec.text("issue_date", None, nullable=True, max_length=10)
        try:
            issue_date = date.fromisoformat(issued) if issued else None
        except ValueError:
            raise ControlError("issue_date: must be a date (YYYY-MM-DD)") from None
        try:
            result = self.issue_sales_invoice(
                key,
                debtor=debtor,
                lines=lines or [{"description": "Diensten", "quantity": "1", "price": "100.00", "vat": "21"}],
                number=number,
                issue_date=issue_date,
            )
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            return Response.json({"error": f"cannot issue: {exc}"}, 400)
        return Response.json(result, 201)

    def _sim_delivered(self, request: Request, key: str) -> Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        return Response.json(env["delivered"])

    def _sim_remove_delivered(self, request: Request, key: str, entry: str) -> Response:
        """Someone deleted a received e-invoice in AFAS: it no longer appears in the read-back GetConnector."""
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        with self.state.lock:
            deliveries = env["delivered"]["purchase_invoices"]
            kept = [d for d in deliveries if str(d["id"]) != entry]
            if len(kept) == len(deliveries):
                return Response.json({"error": f"no delivered purchase invoice {entry}"}, 404)
            deliveries[:] = kept
            self.state.save()
        return Response.json({"removed": int(entry)})


def _profit_value(value: Any, max_length: int = 10_000) -> bool:
    """A field value Profit takes: text (valid, not overlong), a number, true/false or null; not a list or object."""
    if isinstance(value, str):
        try:
            check_text(value, "value", max_length=max_length)
        except ControlError:
            return False
        return True
    return isinstance(value, int | float | bool | type(None))


def _sales_line(line: ControlSpec) -> dict[str, Any]:
    line.only("description", "quantity", "price", "vat", "unit_code")
    vat = line.text("vat", "21", numbers=True)
    if vat not in VAT_CASES:
        raise ControlError(f"{line.name('vat')}: must be one of {list(VAT_CASES)}, not {vat[:20]!r}")
    return {
        "description": line.text("description", "", max_length=500),
        "quantity": _amount(line, "quantity", "1"),
        "price": _amount(line, "price"),
        "vat": vat,
        "unit_code": line.text("unit_code", "C62", allow_empty=False, max_length=10),
    }


def _amount(spec: ControlSpec, field: str, default: Any = ControlSpec.REQUIRED) -> str:
    """A quantity or price (text or a number) as decimal text, within what an invoice line can carry."""
    value = spec.data.get(field, default)
    if value is ControlSpec.REQUIRED:
        raise ControlError(f"{spec.name(field)}: required")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ControlError(f"{spec.name(field)}: must be a decimal number (text or a number)")
    try:
        amount = Decimal(check_text(str(value), spec.name(field), max_length=40).strip())
    except InvalidOperation:
        raise ControlError(f"{spec.name(field)}: {str(value)[:40]!r} is not a decimal number") from None
    if not amount.is_finite() or abs(amount) >= MAX_LINE_AMOUNT or amount != round(amount, 4):
        raise ControlError(f"{spec.name(field)}: must be below {MAX_LINE_AMOUNT} with at most four decimals")
    return str(amount)


def environment_spec(spec: Any, *, where: str = "") -> dict[str, Any]:
    """One environment of ``POST /_sim/fixtures``, checked field by field and normalised (``ControlError``)."""
    spec = ControlSpec(spec, where=where)
    spec.only(*ENVIRONMENT_FIELDS)
    participant = spec.text("participant", numbers=True)
    if not PARTICIPANT.match(participant):
        raise ControlError(f"{spec.name('participant')}: letters, digits, '.', '_' or '-' (at most 64)")
    checked: dict[str, Any] = {
        "participant": participant,
        "environment_type": spec.text("environment_type", "production", choices=ENVIRONMENT_TYPES.values()),
        "edition": spec.text("edition", "profit", choices=EDITIONS),
        "organisation": None,
        "tokens": [],
    }
    organisation = spec.object("organisation", None, nullable=True)
    if organisation is not None and organisation.data:  # none or {}: the default demo organisation
        checked["organisation"] = {
            **{key: check_scalar(value, organisation.name(key)) for key, value in organisation.data.items()},
            "name": organisation.text("name", allow_empty=False, max_length=200),
            "kvk": organisation.text("kvk", numbers=True),
        }
        if not KVK.match(checked["organisation"]["kvk"]):
            raise ControlError(f"{organisation.name('kvk')}: must be a KvK number of eight digits")
        if organisation.has("vat"):
            checked["organisation"]["vat"] = organisation.text("vat", nullable=True, max_length=20)
    for token in spec.objects("tokens", [], nullable=True, max_items=100):
        token.only("token", "connectors")
        checked["tokens"].append(
            {
                "token": token.text("token", allow_empty=False, max_length=10_000),
                "connectors": token.texts("connectors", None, nullable=True, max_items=1000),
            }
        )
    for field in ("debtors", "creditors", "administrations", "sb_ledger_accounts", "sb_relations"):
        checked[field] = list(spec.rows(field, []) if spec.data.get(field) is not None else [])
    connectors: dict[str, Any] = {}
    definitions = spec.object("get_connectors", None, nullable=True)
    for name, definition in (definitions.data if definitions else {}).items():
        check_text(name, f"{definitions.name(name)} (a GetConnector name)", max_length=200)
        definition = definitions.object(name)
        definition.only("description", "fields", "rows")
        fields = [check_row(f.data, f.where) for f in definition.objects("fields", max_items=1000)]
        for index, field in enumerate(fields):
            if not isinstance(field.get("id"), str) or not field["id"]:
                raise ControlError(f"{definition.name('fields')}[{index}].id: required, as text")
        connectors[name] = {
            "description": definition.text("description", name, max_length=500),
            "fields": fields,
            "rows": list(definition.rows("rows", [])),
        }
    checked["get_connectors"] = connectors
    known = set(schema.GET_CONNECTOR_FIELDS) | set(connectors)
    rows = spec.object("rows", None, nullable=True)
    checked["rows"] = {}
    for name in rows.data if rows else {}:
        if name not in known:
            raise ControlError(f"{rows.name(name)}: no GetConnector {name[:100]!r}; known: {sorted(known)}")
        checked["rows"][name] = list(rows.rows(name))
    return checked


ENVIRONMENT_FIELDS = (
    "participant",
    "environment_type",
    "edition",
    "organisation",
    "tokens",
    "debtors",
    "creditors",
    "administrations",
    "get_connectors",
    "rows",
    "sb_ledger_accounts",
    "sb_relations",
)


def _multipart_file(request: Request) -> bytes | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True)
    return None


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _journal_entry_problem(body: Any, env: dict[str, Any]) -> tuple[str, str] | None:
    """The first violation of ``updateconnector-purchasejournalentry-1.1-create_request`` (field, message)."""
    if not isinstance(body, dict):
        return "body", "The body must be an object."
    for field in ("AdministrationId", "InvoiceNumber", "RelationType", "RelationId", "InvoiceDate", "InvoiceLine",
                  "DueDate"):  # fmt: skip
        if body.get(field) in (None, "", []):
            return field, f"'{field}' is required."
    for field in ("AdministrationId", "RelationId"):
        if not _UUID.match(str(body[field])):
            return field, f"'{field}' must be a uuid."
    if body["RelationType"] not in ("organisation", "person", "unknown"):
        return "RelationType", "'RelationType' must be organisation, person or unknown."
    for field in ("InvoiceDate", "DueDate", "PlannedPaymentDate"):
        if body.get(field):
            try:
                date.fromisoformat(str(body[field]))
            except ValueError:
                return field, f"'{field}' must be a date (YYYY-MM-DD)."
    if not isinstance(body["InvoiceLine"], list):
        return "InvoiceLine", "'InvoiceLine' must be a list."
    for index, line in enumerate(body["InvoiceLine"]):
        where = f"InvoiceLine[{index}]"
        if not isinstance(line, dict):
            return where, "A line must be an object."
        for field in ("LedgerAccountId", "AmountExcludingVat", "VatType"):
            if field not in line:
                return f"{where}.{field}", f"'{field}' is required."
        if not _UUID.match(str(line["LedgerAccountId"])):
            return f"{where}.LedgerAccountId", "'LedgerAccountId' must be a uuid."
        if line["VatType"] not in ("high", "low", "zero", "", "null"):
            return f"{where}.VatType", "'VatType' must be high, low or zero."
        if line.get("VatCalculation") not in (None, "reversecharged", "exempt", "", "null"):
            return f"{where}.VatCalculation", "'VatCalculation' must be reversecharged or exempt."
        for field in ("AmountExcludingVat", "AmountVat"):
            value = line.get(field)
            if value is None and field == "AmountVat":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{where}.{field}", f"'{field}' must be a number."
            try:
                if abs(value) >= 1e15 or Decimal(str(value)) != Decimal(str(value)).quantize(Decimal("0.01")):
                    return f"{where}.{field}", f"'{field}' must be a multiple of 0.01."
            except InvalidOperation:  # beyond any amount (the parser already refused NaN and Infinity)
                return f"{where}.{field}", f"'{field}' is out of range."
    attachments = body.get("Attachments") or []
    if not isinstance(attachments, list):
        return "Attachments", "'Attachments' must be a list."
    for item in attachments:
        if not isinstance(item, dict) or not isinstance(item.get("AttachmentId"), str):
            return "Attachments", "An attachment must be an object with an 'AttachmentId'."
        blob = item["AttachmentId"].lower()
        stored = env["sb"]["blobs"].get(blob)
        if stored is None or stored["data"] is None:
            return "Attachments", f"Attachment '{blob}' has not been uploaded."
    return None
