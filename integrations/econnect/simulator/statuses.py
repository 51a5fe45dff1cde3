"""The simulator's own eConnect status tables, written from eConnect's material (soap-notes.md sections 4 and 5),
never from the portal's client: a wrong code in the client must show up as a failing test.

Each inbox template is a list of (label, code, name). The labels are the simulator's words for its control API and
views; ``processed`` is the status that says "in the customer's bookkeeping" in each template.
"""

from __future__ import annotations

# The recorded allowed-status list of the 2014 invoice template (eConnect-API GetInboxDocumentTests).
TEMPLATE_2014 = (
    ("new", "10", "Afgeleverd"),
    ("read", "20", "Gelezen"),
    ("processed", "30", "Verwerkt"),
    ("approved", "40", "Goedgekeurd"),
    ("rejected", "50", "Afgewezen"),
)
# The invoice ("Factuur") template of the knowledge base page "invoice document". 05 and 30 are set by the platform
# itself, so they are not offered to API clients. The portal acknowledges with 35 here (no "Verwerkt").
TEMPLATE_INVOICE = (
    ("new", "10", "Ontvangen"),
    ("read", "20", "Geopend"),
    ("processed", "35", "Ter goedkeuring"),
    ("approved", "40", "Goedgekeurd"),
    ("rejected", "50", "Afgekeurd"),
    ("payable", "60", "Betaalbaar gesteld"),
    ("paid", "70", "Betaald"),
)
# A template that offers nothing meaning "processed": a client must say so clearly instead of guessing.
TEMPLATE_NO_PROCESSING = (
    ("new", "10", "Ontvangen"),
    ("rejected", "50", "Afgekeurd"),
)
INBOX_TEMPLATES = {"invoice": TEMPLATE_INVOICE, "2014": TEMPLATE_2014, "no_processing": TEMPLATE_NO_PROCESSING}
DEFAULT_INBOX_TEMPLATE = "invoice"
NEW_CODE = "10"  # received, in every template
SET_BY_PLATFORM = (("downloaded", "30", "Gedownload"),)  # the platform sets it on download (invoice template)
# [GUESS G-EC-6] The platform shows "Duplicate" in the inbox but publishes no code.
DUPLICATE = ("duplicate", "80", "Duplicaat")

# Outbox: the invoice template's codes where a source gives one, names only where the source has no code.
OUTBOX = {
    "accepted": ("05", "Opgeslagen"),
    "in_progress": ("", "Klaar voor verwerking"),  # the v3.1 GetOutboxDocuments example, without a code
    "delivered": ("10", "Ontvangen"),  # "Received": a delivery confirmation came back
    "failed": ("", "Delivery failed"),  # the platform UI's outbox name; no code published
    "rejected": ("50", "Afgekeurd"),
}
OUTBOX_STATES = tuple(OUTBOX)
FINAL_OUTBOX_STATES = ("delivered", "failed", "rejected")


def inbox_statuses(template: str) -> tuple[tuple[str, str, str], ...]:
    return INBOX_TEMPLATES[template] + SET_BY_PLATFORM + (DUPLICATE,)


def inbox_code(template: str, label: str) -> str:
    return next(code for name, code, _ in inbox_statuses(template) if name == label)


def inbox_label(template: str, code: str) -> str:
    return next((name for name, c, _ in inbox_statuses(template) if c == code), code)


def inbox_name(template: str, code: str) -> str:
    return next((name for _, c, name in inbox_statuses(template) if c == code), code)


def allowed_inbox_statuses(template: str) -> tuple[tuple[str, str, str], ...]:
    """What GetInboxDocument offers and SetInboxDocumentStatus accepts."""
    return INBOX_TEMPLATES[template]


def inbox_labels(template: str) -> tuple[str, ...]:
    return tuple(label for label, _, _ in inbox_statuses(template))
