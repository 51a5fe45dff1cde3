"""The AFAS simulator's Small Business endpoints: access token, blob upload and purchase journal entries."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import re
import time
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.afas.simulator.common import SB_ACCESS_TOKEN_SECONDS, SB_CHUNK_SIZE, now_text
from integrations.simulators.app import Request, Response


class SmallBusinessEndpoints:
    """Small Business: access tokens, blobs and purchase journal entries; part of ``AfasSimulator``."""

    # --- Small Business ---------------------------------------------------------------------------------------
    def _sb_env(self, scope: str) -> dict[str, Any] | None:
        # The customer environment in the SB address is its name ("enyoi" in concepts.md), not a number.
        return next(
            (
                e
                for e in self.environments.values()
                if e["edition"] == "small_business" and e["sb"].get("environment") == scope
            ),
            None,
        )

    def sb_unknown_relations(self, request: Request, domain: str, scope: str) -> Response:
        """``GET /api/unknownrelation``: SB's system relations "Diverse debtors" and "Diverse creditors"."""
        env, refusal = self._sb_authorised(request, scope)
        if refusal:
            return refusal
        return Response.json(env["sb"]["unknown_relations"])

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
            return None, Response.json({"error": "invalid_token"}, 401)  # [GUESS G-SB-1] body
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
            return Response.json(
                {"error": "invalid_grant", "error_description": "invalid app token"}, 401
            )  # [GUESS G-SB-2]
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
        entries.append({"id": invoice_id, "number": number, "received_at": now_text(), "tracking_identifier": tracking,
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


def _relation_problem(body: dict[str, Any], env: dict[str, Any]) -> tuple[str, str] | None:
    """``RelationType`` follows the relation (howto-purchasejournal.md): SB's "unknown relation" with ``unknown``,
    an organisation or person with its own type. [GUESS G-SB-3] SB's wording when they do not match."""
    relation = str(body["RelationId"]).lower()
    unknown = {r["Id"].lower(): r for r in env["sb"].get("unknown_relations", [])}
    organisations = {str(r.get("Id", "")).lower() for r in env["sb"].get("relations", [])}
    if relation in unknown:
        if body["RelationType"] != "unknown":
            return "RelationType", f"Relation '{relation}' is an unknown relation: 'RelationType' must be unknown."
        if not unknown[relation].get("PurchaseRelation"):
            return "RelationId", f"Relation '{relation}' ({unknown[relation]['Name']}) is not a purchase relation."
        return None
    if body["RelationType"] == "unknown":
        return "RelationId", f"'{relation}' is not an unknown relation of this administration."
    if organisations and relation not in organisations:
        return "RelationId", f"Relation '{relation}' was not found."
    return None


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
    relation_problem = _relation_problem(body, env)
    if relation_problem:
        return relation_problem
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
