"""What the parts of the AFAS simulator share: URL shapes, limits, Profit's error body and a new environment's state."""

from __future__ import annotations

import base64
import copy
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from integrations.afas.simulator import schema
from integrations.simulators.app import Response

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


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profit_error(message: str, error_number: int = VALIDATION_ERROR, status: int = 500) -> Response:
    """Profit's error body (and the legacy X-PROFIT-ERROR header, base64 of the message)."""
    body = {"externalMessage": message, "errorNumber": error_number, "profitLogReference": uuid.uuid4().hex.upper()}
    return Response.json(body, status, {"X-PROFIT-ERROR": base64.b64encode(message.encode()).decode()})


def empty_response(status: int) -> Response:
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
        }
        | {
            schema.NAMES.dossier_item_types: {
                **copy.deepcopy(schema.GET_CONNECTOR_FIELDS[schema.NAMES.dossier_item_types]),
                "rows": [dict(row) for row in schema.SUBJECT_TYPES],
            }
        },
        "files": {},
        "next": {"subject_id": 1001, "attachment_id": 5001, "invoice": 1, "debtor": 20001},
        "delivered": {"purchase_invoices": [], "journal_entries": []},
        "sb": {"access_tokens": {}, "blobs": {}, "tracking": {}, "ledger_accounts": [], "relations": []},
    }
