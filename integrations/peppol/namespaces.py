"""XML namespaces and identifiers of UBL 2.1, Peppol BIS Billing 3.0 and NLCIUS."""

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
SVRL = "http://purl.oclc.org/dsdl/svrl"

INVOICE_ROOT = f"{{{INVOICE}}}Invoice"
CREDIT_NOTE_ROOT = f"{{{CREDIT_NOTE}}}CreditNote"
SBDH_ROOT = f"{{{SBDH}}}StandardBusinessDocument"

NSMAP_INVOICE = {None: INVOICE, "cac": CAC, "cbc": CBC}
NSMAP_CREDIT_NOTE = {None: CREDIT_NOTE, "cac": CAC, "cbc": CBC}
XPATH_NS = {"inv": INVOICE, "cn": CREDIT_NOTE, "cac": CAC, "cbc": CBC, "sbdh": SBDH, "svrl": SVRL}

PEPPOL_BIS3_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_BIS3_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NLCIUS_MARKER = "urn:fdc:nen.nl:nlcius:v1.0"
NLCIUS_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
EN16931_PREFIX = "urn:cen.eu:en16931:2017"
PEPPOL_SELF_BILLING_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0"
PEPPOL_SELF_BILLING_PROFILE = "urn:fdc:peppol.eu:2017:poacc:selfbilling:01:1.0"
G_ACCOUNT_MARKER = "urn:fdc:nen.nl:gaccount:v1.0"
G_ACCOUNT_CUSTOMIZATION = f"{NLCIUS_CUSTOMIZATION}#conformant#{G_ACCOUNT_MARKER}"
