"""Which official stylesheets check a document, by its CustomizationID."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.peppol import namespaces as ns
from integrations.peppol.rules import CEN, G_ACCOUNT, OPTIONAL_STYLESHEETS, PEPPOL, SELF_BILLING, SI_UBL

GACCOUNT_MARKER = ns.G_ACCOUNT_MARKER
RULE_GACCOUNT_NOT_CHECKED = "GACCOUNT-NOT-CHECKED"
RULE_SELF_BILLING_NOT_CHECKED = "SELFBILLING-NOT-CHECKED"


def normalise_customization_id(value: str | None) -> str:
    return " ".join((value or "").split())


def choose_stylesheets(
    customization_id: str | None, available: Sequence[str] = OPTIONAL_STYLESHEETS
) -> tuple[str, ...]:
    """The stylesheets for a CustomizationID (see ../shared/peppol/README.md, "Choose stylesheets"); ``available``:
    the optional stylesheets the pack has (without one, its documents are checked as billing or NLCIUS)."""
    value = normalise_customization_id(customization_id)
    if value.startswith(ns.PEPPOL_BIS3_CUSTOMIZATION):
        return (CEN, PEPPOL)
    if value.startswith(ns.PEPPOL_SELF_BILLING_CUSTOMIZATION):
        return (CEN, SELF_BILLING) if SELF_BILLING in available else (CEN, PEPPOL)
    if ns.NLCIUS_MARKER in value:
        return (G_ACCOUNT,) if GACCOUNT_MARKER in value and G_ACCOUNT in available else (SI_UBL,)
    return (CEN,)


def extension_not_checked(customization_id: str, chosen: tuple[str, ...]) -> tuple[str, str] | None:
    """The rule id and message of the warning for a document that names rules the chosen stylesheets lack."""
    if GACCOUNT_MARKER in customization_id and G_ACCOUNT not in chosen:
        return RULE_GACCOUNT_NOT_CHECKED, (
            "The document uses the SI-UBL G-account extension; its extra rules are not in this rules pack, so it "
            "was checked as an NLCIUS document only."
        )
    if customization_id.startswith(ns.PEPPOL_SELF_BILLING_CUSTOMIZATION) and SELF_BILLING not in chosen:
        return RULE_SELF_BILLING_NOT_CHECKED, (
            "The document uses Peppol self-billing; its rules are not in this rules pack, so it was checked as a "
            "Peppol BIS Billing document only."
        )
    return None
