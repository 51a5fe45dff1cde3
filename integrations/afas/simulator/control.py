"""The AFAS simulator's control API: fixtures, settings, relation changes, sales invoices and what was delivered."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.afas.simulator import schema
from integrations.afas.simulator.common import (
    EDITIONS,
    ENVIRONMENT_TYPES,
    KVK,
    MAX_LINE_AMOUNT,
    MAX_MAINTENANCE_SECONDS,
    PARTICIPANT,
    environment_key,
    new_environment,
    now_text,
)
from integrations.afas.simulator.documents import CREDIT_NOTE_STYLES, VAT_CASES, build_sales_invoice
from integrations.simulators.app import Request, Response
from integrations.simulators.control import ControlError, ControlSpec, check_row, check_scalar, check_text


class ControlApi:
    """The control API under ``/_sim/`` (described on ``AfasSimulator``); part of ``AfasSimulator``."""

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
        # SB's customer environment is a name (concepts.md: "enyoi"), with its system relations "Diverse debtors"
        # and "Diverse creditors" (GET /api/unknownrelation).
        env["sb"]["environment"] = spec.get("sb_environment") or f"env{env['participant']}"
        env["sb"]["unknown_relations"] = spec.get("sb_unknown_relations") or [
            {"Id": str(uuid.uuid4()), "Name": "Diverse debtors", "IsBlocked": False, "SalesRelation": True,
             "PurchaseRelation": False},
            {"Id": str(uuid.uuid4()), "Name": "Diverse creditors", "IsBlocked": False, "SalesRelation": False,
             "PurchaseRelation": True},
        ]  # fmt: skip
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
            row["ModifiedDate"] = changes.get("ModifiedDate") or now_text()
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
        credit_note: str | None = None,
        credits: str = "",
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
                                        issue_date=issue_date, lines=lines, credit_note=credit_note,
                                        credits=credits)  # fmt: skip
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
            # The item's link to the invoice it belongs to (KnSubjectLink SiId), as Profit_SubjectFile shows it.
            env["get_connectors"][schema.NAMES.dossier_item_files]["rows"].append(
                {
                    "SubjectId": subject_id,
                    "Subject": f"Factuur {number}",
                    "TypeId": schema.NAMES.sales_invoice_subject_type,
                    "FiEntryNumber": None,
                    "BookPieceNumber": None,
                    "PurchaseInvoiceNumber": None,
                    "AdministrationPurchaseInvoice": None,
                    "SalesInvoiceNumber": number,
                    "AdministrationSalesInvoice": 1,
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
            self.register_dossier_event(key, "subject.created", schema.NAMES.sales_invoice_subject_type, subject_id)
            self.state.save()
        return {"subject_id": subject_id, "number": number, "total": files.total, "attachments": attachments}

    def _sim_sales_invoice(self, request: Request, key: str) -> Response:
        env = self._env_or_404(key)
        if isinstance(env, Response):
            return env
        spec = request.control_spec().only("debtor", "lines", "number", "issue_date", "credit_note", "credits")
        debtor = spec.text("debtor", numbers=True, allow_empty=False, max_length=50)
        lines = [_sales_line(line) for line in spec.objects("lines", None, max_items=500, nullable=True) or []]
        number = spec.text("number", None, nullable=True, allow_empty=False, max_length=50)
        issued = spec.text("issue_date", None, nullable=True, max_length=10)
        credit_note = spec.text("credit_note", None, nullable=True, choices=CREDIT_NOTE_STYLES)
        credits = spec.text("credits", "", max_length=50)
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
                credit_note=credit_note,
                credits=credits,
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
    sb_environment = spec.text("sb_environment", "", max_length=63)
    if sb_environment and not SB_ENVIRONMENT.match(sb_environment):
        raise ControlError(f"{spec.name('sb_environment')}: a lowercase name such as 'enyoi'")
    checked["sb_environment"] = sb_environment
    for field in ("debtors", "creditors", "administrations", "sb_ledger_accounts", "sb_relations",
                  "sb_unknown_relations"):  # fmt: skip
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
    "sb_environment",
    "sb_unknown_relations",
)
SB_ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
