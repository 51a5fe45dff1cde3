"""The demo world shared by the portal's demo seed and both simulators, so that they describe the same firm.

Tokens and keys here are demo values; the portal's demo seed stores exactly these (encrypted) for its environments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from integrations.econnect.psb.models import PORTAL_TOPICS, portal_hook_id

# The eConnect simulator of `make run` accepts this subscription key; the portal's DEBUG default is the same value.
SIMULATOR_SUBSCRIPTION_KEY = "simulator-subscription-key"
# Where `make run`'s portal answers; the eConnect simulator's demo hook posts there (the portal's DEBUG default).
DEMO_PORTAL_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoEnvironment:
    participant: str
    environment_type: str  # production | test | accept
    edition: str  # profit | small_business
    organisation_name: str
    organisation_kvk: str
    econnect_network: str  # eConnect keeps production and test (acceptance) apart
    # Where the organisation's own identifier is registered on Peppol. "afas": it already receives via AFAS's own
    # access point, so the portal must refuse to switch receiving via eConnect on (one route per identifier).
    registered_at: str = "econnect"
    sb_environment: str = ""  # Small Business: the customer environment's name in the SB address
    transport: str = "soap"  # eConnect: "soap" (platform API, App Key + Secret) or "psb" (REST, OAuth2 + webhooks)

    @property
    def key(self) -> str:
        return f"{self.participant}-{self.environment_type}"

    @property
    def afas_token(self) -> str:
        return f"<token><version>1</version><data>demo-{self.key}</data></token>"

    @property
    def econnect_app_key(self) -> str:
        return f"demo-app-key-{self.key}"

    @property
    def econnect_app_secret(self) -> str:
        return f"demo-secret-{self.key}"

    @property
    def psb_client_id(self) -> str:
        return f"demo-psb-{self.key}"

    @property
    def psb_client_secret(self) -> str:
        return f"demo-psb-secret-{self.key}"

    @property
    def hook_token(self) -> str:
        """The unguessable part of the portal's webhook address (a demo value, like the credentials)."""
        return f"demo-hook-{self.key}"

    @property
    def hook_secret(self) -> str:
        return f"demo-hook-secret-{self.key}"

    @property
    def hook(self) -> dict:
        """The hook the portal registers for this environment (PSB's Hook JSON)."""
        return {
            "id": portal_hook_id(self.participant, self.environment_type),
            "name": f"Peppol bridge {self.key}",
            "action": self.hook_action,
            "topics": list(PORTAL_TOPICS),
            "isActive": True,
        }

    @property
    def hook_action(self) -> str:
        """What the portal registers as its hook: its webhook address, with the signing secret as the fragment."""
        return f"{DEMO_PORTAL_URL}/hooks/econnect/{self.hook_token}/#{self.hook_secret}"

    @property
    def sb_unknown_relations(self) -> list[dict]:
        """SB's system relations of this environment; received invoices are booked on "Diverse creditors"."""
        return [
            {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"afas-sim/{self.key}/{name}")), "Name": name,
             "IsBlocked": False, "SalesRelation": sales, "PurchaseRelation": not sales}
            for name, sales in (("Diverse debtors", True), ("Diverse creditors", False))
        ]  # fmt: skip

    @property
    def sb_diverse_creditors_id(self) -> str:
        return self.sb_unknown_relations[1]["Id"]

    @property
    def own_identifier(self) -> str:
        return f"0106:{self.organisation_kvk}"


ENVIRONMENTS = (
    DemoEnvironment("12345", "production", "profit", "Bakkerij De Korenschoof B.V.", "34567890", "production"),
    DemoEnvironment("12345", "test", "profit", "Bakkerij De Korenschoof B.V.", "34567890", "test"),
    DemoEnvironment(
        "67890",
        "production",
        "small_business",
        "Installatiebedrijf Noordhoek",
        "45678901",
        "production",
        sb_environment="noordhoek",
    ),  # fmt: skip
    DemoEnvironment(
        "24680", "production", "profit", "Garage Van Wijk B.V.", "56789012", "production", registered_at="afas"
    ),
    # On eConnect's PSB (REST): sends with a document id, receives by webhook (both transports in one demo).
    DemoEnvironment(
        "11223", "production", "profit", "Bloemenhandel Flora B.V.", "78901234", "production", transport="psb"
    ),
)

# A client both simulators know but the portal's demo data does not: a newcomer onboards it in the portal alone (the
# README's "Try it: onboard a new client"), with these demo credentials.
NEW_CLIENT = DemoEnvironment("13579", "production", "profit", "Drukkerij Het Anker B.V.", "67890123", "production")
SIMULATED_ENVIRONMENTS = (*ENVIRONMENTS, NEW_CLIENT)


@dataclass(frozen=True)
class DemoCustomer:
    """A debtor in AFAS with its e-invoicing fields, and where (if anywhere) it is registered on Peppol."""

    number: str
    name: str
    kvk: str = ""
    oin: str = ""
    vat: str = ""
    econnect_id: str = ""  # AFAS field EnId, as an accountant typed it (either notation, sometimes wrong)
    issue_method: str = "R"  # AFAS InPv; R = invoice and UBL in the dossier (the portal sends)
    peppol: str = "econnect"  # econnect | afas | other | none: the access point its identifier is registered at
    receives_credit_notes: bool = True


def _nl_vat(nine_digits: str) -> str:
    """A Dutch VAT number whose nine digits pass the mod-11 check (weights 9..2, minus the last digit)."""
    base = nine_digits[:8]
    for last in "0123456789":
        digits = base + last
        total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
        if total % 11 == 0:
            return f"NL{digits}B01"
    return _nl_vat(str(int(base) + 1).zfill(8) + "0")


CUSTOMERS = (
    DemoCustomer(
        "10001", "Restaurant De Gouden Leeuw", kvk="30123456", vat=_nl_vat("801234560"), econnect_id="NL:KVK:30123456"
    ),
    DemoCustomer("10002", "Hotel Zeezicht B.V.", kvk="30123457", econnect_id="0106:30123457"),
    DemoCustomer(
        "10003", "Gemeente Westerveld", oin="00000001001234567000", econnect_id="NL:OINO:00000001001234567000"
    ),
    DemoCustomer("10004", "Supermarkt Van Dam", kvk="30123459", vat=_nl_vat("802345670"), peppol="none"),
    DemoCustomer("10005", "Kapsalon Knip & Co", kvk="3012346", peppol="none"),  # KvK typed with 7 digits
    DemoCustomer("10006", "Camping Het Bos", kvk="30123461", econnect_id="NL:KVK:30123461", peppol="afas"),
    DemoCustomer("10007", "Transport Jansen", vat=_nl_vat("803456780"), econnect_id="NL:VAT:" + _nl_vat("803456780")),
    DemoCustomer("10008", "Brouwerij 't Hoppe", kvk="30123463", receives_credit_notes=False),
    DemoCustomer("10009", "Zorggroep Oost", kvk="30123464", oin="00000001001234568000", peppol="other"),
    DemoCustomer("10010", "Café Centraal", kvk="30123465", issue_method="C", peppol="afas"),  # AFAS sends itself
    DemoCustomer("10011", "Drukkerij Pers", kvk="30123466", econnect_id="NL:KVK:3012346X", peppol="none"),
    DemoCustomer("10012", "Bouwbedrijf Stevens", kvk="30123467", vat=_nl_vat("804567890")),
    DemoCustomer("10013", "Fietsenmaker Wiel", peppol="none"),  # no identifiers at all
    DemoCustomer("10014", "Waterschap Rivierenland", oin="00000001001234569000"),
    DemoCustomer(
        "10015", "Apotheek De Vijzel", kvk="30123470", issue_method="F", peppol="econnect"
    ),  # via AFAS's eConnect link
)
