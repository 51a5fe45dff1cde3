"""The demo world in the simulator: the environments, debtors and tokens of ``integrations.demo_data``, a few
creditors, and issued sales invoices covering the Dutch VAT cases (21%, 9%, 0%, reverse charge)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Protocol

from integrations.afas.simulator.documents import nl_vat
from integrations.demo_data import CUSTOMERS, SIMULATED_ENVIRONMENTS, DemoEnvironment


class Seedable(Protocol):
    """What seeding needs of the simulator (``AfasSimulator``), without importing it: the app imports this module."""

    environments: dict[str, Any]

    def load_environment(self, spec: dict) -> str: ...

    def issue_sales_invoice(self, key: str, **kwargs: Any) -> dict[str, Any]: ...


CREDITORS = (
    ("70001", "Groothandel Meelfabriek Holland B.V.", "33445566"),
    ("70002", "Energieleverancier Stroomvrij B.V.", "33445567"),
    ("70003", "Verpakkingen Noord B.V.", "33445568"),
)
# (debtor, invoice lines): one invoice per Dutch VAT case, to customers the portal sends for (issue method R).
DEMO_INVOICES = (
    ("10001", [{"description": "Broodleverantie maart", "quantity": "30", "price": "12.50", "vat": "21"}]),
    ("10002", [{"description": "Ontbijtbroodjes", "quantity": "200", "price": "0.85", "vat": "9"}]),
    ("10003", [{"description": "Export verpakking (0%)", "quantity": "1", "price": "150.00", "vat": "0"}]),
    (
        "10012",
        [{"description": "Onderaanneming verbouwing", "quantity": "16", "price": "55.00", "vat": "reverse_charge"}],
    ),
    (
        "10007",
        [
            {"description": "Taarten", "quantity": "4", "price": "24.95", "vat": "9"},
            {"description": "Bezorging", "quantity": "1", "price": "15.00", "vat": "21"},
        ],
    ),
)
# Stable ids so that a demo seeded twice, or on two machines, looks the same. [GUESS G-SB-7] the SB ledger accounts.
SB_LEDGER_ACCOUNTS = (
    {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, "afas-sim/ledger/7000")), "Code": "7000", "Description": "Inkopen"},
    {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, "afas-sim/ledger/4000")), "Code": "4000", "Description": "Kosten"},
)
SB_ADMINISTRATION_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "afas-sim/administration/1"))


def _debtor_rows() -> list[dict]:
    return [
        {
            "DebtorId": c.number,
            "DebtorName": c.name,
            "BcCo": f"ORG{c.number}",
            "CcNr": c.kvk or None,
            "VaId": c.vat or None,
            "OINr": c.oin or None,
            "EnId": c.econnect_id or None,
            "InPv": c.issue_method,
            "Email": f"administratie@{c.number}.example.nl",
            "Blocked": False,
            "ModifiedDate": f"2025-01-{10 + index:02d}T09:00:00Z",
        }
        for index, c in enumerate(CUSTOMERS)
    ]


def _environment_spec(spec: DemoEnvironment) -> dict:
    return {
        "participant": spec.participant,
        "environment_type": spec.environment_type,
        "edition": spec.edition,
        "organisation": {
            "name": spec.organisation_name,
            "kvk": spec.organisation_kvk,
            "vat": nl_vat(spec.organisation_kvk),
        },
        "tokens": [{"token": spec.afas_token, "connectors": None}],
        "debtors": _debtor_rows(),
        "creditors": [
            {
                "CreditorId": number,
                "CreditorName": name,
                "BcCo": f"ORG{number}",
                "Btw-nummer": nl_vat(kvk),
                "ChOfCommNr": kvk,
                "IBAN": "NL91ABNA0417164300",
                "Blocked": False,
                "CreateDate": "2024-06-01T00:00:00Z",
                "ModifiedDate": "2024-06-01T00:00:00Z",
            }
            for number, name, kvk in CREDITORS
        ],
        "administrations": [{"AdminId": 1, "AdminNm": spec.organisation_name, "AdminCd": "1"}],
        "sb_ledger_accounts": list(SB_LEDGER_ACCOUNTS),
        "sb_environment": spec.sb_environment,
        "sb_unknown_relations": spec.sb_unknown_relations if spec.sb_environment else [],
    }


def seed_demo(app: Seedable) -> None:
    """Load the demo world; environments already present are left as they are (idempotent)."""
    for spec in SIMULATED_ENVIRONMENTS:
        if spec.key in app.environments:
            continue
        key = app.load_environment(_environment_spec(spec))
        if spec.edition != "profit":
            continue
        for index, (debtor, lines) in enumerate(DEMO_INVOICES, start=1):
            app.issue_sales_invoice(
                key, debtor=debtor, lines=lines, number=f"2025{index:05d}", issue_date=date(2025, 3, index)
            )
