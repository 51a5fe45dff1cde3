"""The AFAS simulator's Profit REST endpoints, as documented in AFAS's OpenAPI specifications."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

from integrations.afas.simulator import schema
from integrations.afas.simulator.common import (
    AMSTERDAM,
    ENVIRONMENT_TYPES,
    MAINTENANCE_MESSAGE,
    empty_response,
    environment_key,
    now_text,
    profit_error,
)
from integrations.afas.simulator.getconnectors import QueryError, query_rows
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected, find_ubl_document, parse_untrusted_xml
from integrations.simulators.app import MAX_REQUEST_BYTES, Request, Response
from integrations.simulators.control import ControlError, check_text


class ProfitEndpoints:
    """Profit REST: GetConnectors, UpdateConnectors (purchase invoices, sales relations), metainfo, the
    SubjectConnector; part of ``AfasSimulator``, which holds the state and the routes."""

    # --- Profit: the checks every call passes ---------------------------------------------------------------
    def _profit_env(
        self, request: Request, participant: str, rest_host: str
    ) -> tuple[dict | None, Any, Response | None]:
        """(environment, token entry, refusal). Maintenance, IP restriction, then the token."""
        env = self.environments.get(environment_key(participant, ENVIRONMENT_TYPES[rest_host.lower()]))
        if env is None or env["edition"] != "profit":
            return None, None, empty_response(404)
        settings = env["settings"]
        if settings.get("maintenance_retry_after") is not None:
            seconds = int(settings["maintenance_retry_after"])
            body = {"error": {"code": "503", "message": MAINTENANCE_MESSAGE}, "retry_after": seconds}
            return None, None, Response.json(body, 503, {"Retry-After": str(seconds)})
        if settings.get("ip_blocked"):
            return None, None, empty_response(403)
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "afastoken" or not value.strip():
            return None, None, empty_response(401)
        try:
            token = base64.b64decode(value.strip(), validate=True).decode("utf-8").strip()
        except (binascii.Error, ValueError):
            # Profit 6: a token that is not base64 (e.g. the plain XML) is an error, not a 401.
            return None, None, profit_error("The token is not base64 encoded.", -2147467259)
        entry = env["tokens"].get(token)
        if entry is None:
            return None, None, empty_response(401)
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
            return empty_response(401)  # "GetConnector not supported for this app or the user is not authorized"
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
                return empty_response(401)
            definition = env["get_connectors"][name]
            return Response.json(
                {"name": name, "description": definition["description"], "fields": definition["fields"]}
            )
        name = self._find(schema.UPDATE_CONNECTORS, connector)
        if name is None or not self._allowed(entry, name):
            return empty_response(401)
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
        if not self._allowed(entry, schema.NAMES.subject_connector):
            # The subject connector must be added to the app connector (howto-bijlage-dossier.md). [GUESS G-AFAS-8] 401, as
            # for any connector the app connector lacks.
            return empty_response(401)
        subject = subject or request.query_value("SubjectId")
        file_id = file or request.query_value("FileId")
        if not subject or not file_id:
            return empty_response(400)
        stored = env["files"].get(file_id.upper())
        if stored is None or str(stored["subject_id"]) != str(subject):
            return empty_response(404)  # "the file is not on disk or the token user has no rights to it"
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
            return empty_response(401)
        try:
            body = request.json()
        except ValueError:
            return empty_response(400)
        if not isinstance(body, dict) or not isinstance(body.get(name), dict) or "Element" not in body[name]:
            return profit_error(f"The request does not contain the element '{name}'.")
        elements = body[name]["Element"]
        elements = elements if isinstance(elements, list) else [elements]
        if not elements or not all(isinstance(e, dict) for e in elements):
            return profit_error(f"The element '{name}' is empty.")
        if name == schema.NAMES.purchase_invoice:
            if request.method != "POST":
                return empty_response(405)
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
                "received_at": now_text(),
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
            row["ModifiedDate"] = now_text()
            keys = {"DbId": row["DebtorId"], "BcCo": row["BcCo"]}
        return keys


def _profit_value(value: Any, max_length: int = 10_000) -> bool:
    """A field value Profit takes: text (valid, not overlong), a number, true/false or null; not a list or object."""
    if isinstance(value, str):
        try:
            check_text(value, "value", max_length=max_length)
        except ControlError:
            return False
        return True
    return isinstance(value, int | float | bool | type(None))
