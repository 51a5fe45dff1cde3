"""The portal's own duplicate verdict, supplier-aware, with the evidence kept for the person who decides.

Layers: identical bytes (certain); same supplier + normalised number + document type + issue date (duplicate,
"suspected" when the amounts differ). The supplier is resolved from any of its identifiers (endpoint id, KvK,
OIN, VAT; an IBAN only when there is nothing stronger) to one supplier key; a document without any is never
compared with other suppliers' documents.
eConnect flags duplicates by number and date alone, across suppliers; where it disagrees, the evidence says so.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from integrations.peppol.parser import DocumentSummary
from portal.incoming_invoices.models import IncomingInvoice, SupplierIdentity
from portal.organisations.models import Environment

Verdict = IncomingInvoice.DuplicateVerdict


def normalise_invoice_number(number: str | None) -> str:
    """Upper case, letters and digits only, leading zeros of each run of digits dropped: 'f-0012/a' → 'F12A'."""
    if not number:
        return ""
    without_leading_zeros = re.sub(r"\d+", lambda digits: digits.group().lstrip("0") or "0", number.upper())
    return re.sub(r"[^0-9A-Z]", "", without_leading_zeros)[:100]


def supplier_identifiers(summary: DocumentSummary) -> list[str]:
    """Every identifier the document gives its supplier, normalised, the endpoint first."""
    supplier = summary.supplier
    found: list[str] = []

    def add(kind: str, value: str | None) -> None:
        value = re.sub(r"\s", "", value or "").upper()
        if value and kind and f"{kind}:{value}" not in found:
            found.append(f"{kind}:{value}"[:140])

    if supplier is not None:
        if supplier.endpoint_id:
            add(supplier.endpoint_id.scheme or "", supplier.endpoint_id.value)
        for identifier in (*supplier.legal_ids, *supplier.identifications):
            add(identifier.scheme or "", identifier.value)
        for vat in supplier.vat_ids:
            add("VAT", vat)
    for iban in summary.ibans:
        add("IBAN", iban)
    return found


def resolve_supplier_key(
    *, environment: Environment, identifiers: list[str], resolved: dict[tuple[str, ...], str] | None = None
) -> str:
    """The supplier these identifiers belong to, remembered for all of them. ``resolved``: what one task resolved for
    the environment so far (remembered identifiers keep their supplier, so the same identifiers give the same key).

    Strong identifiers (endpoint id, KvK, OIN, VAT) decide. An IBAN is weak: factoring companies and shared
    accounts put one IBAN on many suppliers' invoices, so it links a document only when the document carries no
    strong identifier, and a known IBAN never merges a supplier whose strong identifiers are new.
    """
    if not identifiers:
        return ""
    if resolved is not None and tuple(identifiers) in resolved:
        return resolved[tuple(identifiers)]
    strong = [identifier for identifier in identifiers if not identifier.startswith("IBAN:")]
    lookup = strong or identifiers
    remembered = dict(
        SupplierIdentity.objects.filter(environment=environment, identifier__in=identifiers)
        .order_by("created_at", "pk")
        .values_list("identifier", "supplier_key")
    )  # one row per identifier, the oldest first
    known = next((key for identifier, key in remembered.items() if identifier in lookup), None)
    key = known or hashlib.sha256(lookup[0].encode()).hexdigest()[:32]
    new = [identifier for identifier in identifiers if identifier not in remembered]
    if new:
        # Another worker may remember the same identifier at the same moment: its row stays, as get_or_create's would.
        SupplierIdentity.objects.bulk_create(
            [SupplierIdentity(environment=environment, identifier=identifier, supplier_key=key) for identifier in new],
            ignore_conflicts=True,
        )
    if resolved is not None:
        resolved[tuple(identifiers)] = key
    return key


@dataclass
class VerdictResult:
    verdict: str
    duplicate_of: IncomingInvoice | None = None
    evidence: dict = field(default_factory=dict)
    econnect_flag_disputed: bool = False


def _describe(invoice: IncomingInvoice) -> dict:
    return {
        "id": invoice.pk,
        "econnect_document_id": invoice.econnect_document_id,
        "invoice_number": invoice.invoice_number,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "document_type": invoice.document_type,
        "supplier_name": invoice.supplier_name,
        "supplier_identifiers": invoice.supplier_identifiers,
        "payable_amount": str(invoice.payable_amount) if invoice.payable_amount is not None else None,
        "currency": invoice.currency,
        "sha256": invoice.sha256,
        "received_at": invoice.created_at.isoformat(),
    }


def judging_lock(environment: Environment) -> None:
    """Inside the caller's transaction: no other document of the environment is judged until it ends. Documents are
    processed in parallel and in any order; judged one at a time, the second of two copies always sees the first.
    (PostgreSQL; SQLite runs one writer at a time.)"""
    list(Environment.objects.select_for_update(no_key=True).filter(pk=environment.pk).values_list("pk", flat=True))


def duplicate_verdict(invoice: IncomingInvoice) -> VerdictResult:
    """Compare with the environment's documents (index lookups only), under ``judging_lock`` with the status change
    the verdict leads to.

    Identical bytes: the copy stored first is the original, whichever is judged first (its hash is known from the
    moment it is stored), so two copies processed at the same moment cannot both end up held. Otherwise: the
    documents judged before this one; one still waiting to be processed has no summary yet and is not compared (it
    is judged after this one and then sees it)."""
    documents = IncomingInvoice.objects.defer("raw_xml").filter(environment_id=invoice.environment_id)
    # Later copies of these very bytes are this document's duplicates, never what it duplicates.
    earlier = documents.exclude(sha256=invoice.sha256).exclude(status=IncomingInvoice.Status.RECEIVED)
    this = _describe(invoice)

    same_bytes = _first(documents.filter(sha256=invoice.sha256, pk__lt=invoice.pk))
    if same_bytes is not None:
        return VerdictResult(
            Verdict.CERTAIN_DUPLICATE,
            same_bytes,
            {
                "rule": "identical bytes (same SHA-256) as an earlier document",
                "this": this,
                "matched": _describe(same_bytes),
            },
        )

    if not invoice.supplier_key or not invoice.normalised_invoice_number:
        result = VerdictResult(
            Verdict.SUPPLIER_UNKNOWN,
            evidence={
                "rule": "supplier not resolved (no identifiers) or no invoice number: not compared with other suppliers",
                "this": this,
            },
        )
    else:
        match = _first(
            earlier.filter(
                supplier_key=invoice.supplier_key,
                normalised_invoice_number=invoice.normalised_invoice_number,
                document_type=invoice.document_type,
                issue_date=invoice.issue_date,
            )
        )
        if match is not None:
            same_amount = (match.payable_amount, match.currency) == (invoice.payable_amount, invoice.currency)
            return VerdictResult(
                Verdict.DUPLICATE if same_amount else Verdict.SUSPECTED_DUPLICATE,
                match,
                {
                    "rule": "same supplier, invoice number, document type and issue date"
                    + ("" if same_amount else "; the amounts differ"),
                    "this": this,
                    "matched": _describe(match),
                },
            )
        result = VerdictResult(
            Verdict.ORIGINAL, evidence={"rule": "no earlier document of this supplier matches", "this": this}
        )

    if invoice.econnect_duplicate_flag:
        _dispute_econnect_flag(result, invoice, earlier)
    return result


def _first(documents) -> IncomingInvoice | None:
    """The earliest of ``documents``. Asked for its id alone (most documents match nothing, and a query for one
    column is quicker to build), then read whole when there is one."""
    pk = documents.order_by("pk").values_list("pk", flat=True).first()
    return None if pk is None else documents.get(pk=pk)


def _dispute_econnect_flag(result: VerdictResult, invoice: IncomingInvoice, earlier) -> None:
    """eConnect flagged it, the portal found no duplicate of this supplier: why, with the documents eConnect saw."""
    others = earlier.filter(normalised_invoice_number=invoice.normalised_invoice_number, issue_date=invoice.issue_date)
    other_suppliers = [_describe(other) for other in others.exclude(supplier_key=invoice.supplier_key)[:5]]
    other_types = [
        _describe(other)
        for other in others.filter(supplier_key=invoice.supplier_key).exclude(document_type=invoice.document_type)[:5]
    ]
    if other_suppliers:
        why = "The earlier document(s) with that number and date come from a different supplier."
    elif other_types:
        why = "The earlier document with that number and date from this supplier is another document type (invoice vs credit note)."
    else:
        why = "No earlier document from this supplier with that number and date was received here."
    result.econnect_flag_disputed = True
    result.evidence["econnect"] = (
        f"eConnect flagged this as a duplicate (it compares invoice number and date only). {why}"
    )
    result.evidence["other_suppliers_same_number_and_date"] = other_suppliers
    result.evidence["other_document_types_same_number_and_date"] = other_types
