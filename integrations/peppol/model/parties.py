"""The parties: an identifier (scheme and value), an address, a contact and a ``Party`` (seller, buyer, payee)."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.peppol.i18n import Text
from integrations.peppol.model.checks import _code, _refuse, _text
from integrations.peppol.model.codelists import (
    COUNTRY_CODES,
    DUTCH_LEGAL_ID_SCHEMES,
    ELECTRONIC_ADDRESS_SCHEMES,
    IDENTIFIER_SCHEMES,
    VAT_ID_PREFIXES,
)

# --- parties --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A scheme and a value, e.g. ``Identifier("0106", "12345678")`` for a KvK number."""

    scheme: str
    value: str

    def __post_init__(self) -> None:
        _text(self.scheme, "identifier.scheme", required=True)
        _text(self.value, "identifier.value", required=True)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


@dataclass(frozen=True)
class Address:
    country_code: str
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_zone: str = ""
    country_subdivision: str = ""
    address_line: str = ""

    def __post_init__(self) -> None:
        _code(self.country_code, "address.country_code", COUNTRY_CODES, Text("country", "land"))
        for name in ("street", "additional_street", "city", "postal_zone", "country_subdivision", "address_line"):
            _text(getattr(self, name), f"address.{name}", required=False)

    @property
    def is_complete(self) -> bool:
        """Street, city and postal code: what the Dutch rules (NL-R-002, NL-R-004) ask."""
        return bool(self.street and self.city and self.postal_zone)


@dataclass(frozen=True)
class Contact:
    name: str = ""
    telephone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "telephone", "email"):
            _text(getattr(self, name), f"contact.{name}", required=False)
        if not (self.name or self.telephone or self.email):
            raise _refuse(
                "contact",
                "A contact needs a name, telephone or email.",
                "Een contact heeft een naam, telefoon of e-mail nodig.",
            )


@dataclass(frozen=True)
class Party:
    """Seller or buyer.

    ``endpoint`` is the Peppol electronic address (``cbc:EndpointID``, e.g. 0106 + KvK); ``legal_id`` the legal
    registration (``cac:PartyLegalEntity/cbc:CompanyID``, KvK 0106 or OIN 0190 for Dutch parties);
    ``vat_id`` the VAT number with its country prefix (``cac:PartyTaxScheme``).
    """

    name: str
    endpoint: Identifier
    address: Address
    vat_id: str = ""
    legal_id: Identifier | None = None
    trading_name: str = ""
    contact: Contact | None = None

    def __post_init__(self) -> None:
        _text(self.name, "party.name", required=True)
        _text(self.trading_name, "party.trading_name", required=False)
        if not isinstance(self.endpoint, Identifier):
            raise _refuse(
                "party.endpoint",
                "The electronic address must be an Identifier.",
                "Het elektronisch adres moet een Identifier zijn.",
            )
        if self.endpoint.scheme not in ELECTRONIC_ADDRESS_SCHEMES:
            raise _refuse(
                "party.endpoint",
                f"'{self.endpoint.scheme}' is not a Peppol electronic address scheme (EAS), e.g. 0106 for a KvK number.",
                f"'{self.endpoint.scheme}' is geen Peppol-schema voor elektronische adressen (EAS), bijv. 0106 voor een KvK-nummer.",
            )
        if not isinstance(self.address, Address):
            raise _refuse(
                "party.address", "The postal address must be an Address.", "Het postadres moet een Address zijn."
            )
        vat_id = _text(self.vat_id, "party.vat_id", required=False)
        if vat_id and (vat_id[:2] not in VAT_ID_PREFIXES or len(vat_id) < 3):
            raise _refuse(
                "party.vat_id",
                f"The VAT number '{vat_id}' must start with its country code, e.g. NL123456789B01 (BR-CO-09).",
                f"Het btw-nummer '{vat_id}' moet met de landcode beginnen, bijv. NL123456789B01 (BR-CO-09).",
            )
        if self.legal_id is not None:
            if not isinstance(self.legal_id, Identifier):
                raise _refuse(
                    "party.legal_id",
                    "The legal registration must be an Identifier.",
                    "De inschrijving moet een Identifier zijn.",
                )
            if self.legal_id.scheme not in IDENTIFIER_SCHEMES:
                raise _refuse(
                    "party.legal_id",
                    f"'{self.legal_id.scheme}' is not an ISO 6523 scheme (e.g. 0106 KvK, 0190 OIN).",
                    f"'{self.legal_id.scheme}' is geen ISO 6523-schema (bijv. 0106 KvK, 0190 OIN).",
                )
            if self.is_dutch and self.legal_id.scheme not in DUTCH_LEGAL_ID_SCHEMES:
                raise _refuse(
                    "party.legal_id",
                    f"A Dutch party is registered with its KvK number (0106) or OIN (0190), not scheme {self.legal_id.scheme} "
                    "(NL-R-003, NL-R-005).",
                    f"Een Nederlandse partij staat ingeschreven met KvK-nummer (0106) of OIN (0190), niet met schema "
                    f"{self.legal_id.scheme} (NL-R-003, NL-R-005).",
                )
        if self.contact is not None and not isinstance(self.contact, Contact):
            raise _refuse("party.contact", "The contact must be a Contact.", "Het contact moet een Contact zijn.")

    @property
    def is_dutch(self) -> bool:
        return self.address.country_code == "NL"
