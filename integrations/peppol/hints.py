"""Fix hints: what to change, in AFAS where we know, when an official rule fails. Data: rule id → Text."""

from __future__ import annotations

import re

from integrations.peppol.i18n import Text

# Where a rule usually comes from in AFAS Profit: the debtor (debiteur) and its organisation card, the own
# administration (administratie) settings, the VAT codes (btw-codes), the bank account and the invoice itself.
_SUPPLIER_KVK = Text(
    "Fill in the Chamber of Commerce number (KvK, 8 digits) of your own administration in AFAS "
    "(administration/organisation settings); it is sent as the seller's legal id with scheme 0106 "
    "(government bodies: their OIN with scheme 0190).",
    "Vul in AFAS het KvK-nummer (8 cijfers) van uw eigen administratie in (instellingen van administratie/organisatie); "
    "het wordt verstuurd als juridisch nummer van de verkoper met schema 0106 (overheden: hun OIN met schema 0190).",
)
_SUPPLIER_ADDRESS = Text(
    "Complete the address of your own administration in AFAS: street (with house number), postcode and city.",
    "Vul het adres van uw eigen administratie in AFAS volledig in: straat (met huisnummer), postcode en plaats.",
)
_CUSTOMER_ADDRESS = Text(
    "Complete the customer's address on the debtor's organisation card in AFAS: street (with house number), "
    "postcode, city and country.",
    "Vul het adres van de klant volledig in op de organisatiekaart van de debiteur in AFAS: straat (met huisnummer), "
    "postcode, plaats en land.",
)
_BUYER_REFERENCE = Text(
    "The customer's reference is missing: enter their order number or the reference they gave you "
    "(for government customers: the purchase order number or their 'referentie') on the sales invoice or "
    "order in AFAS, or as the default reference on the debtor card.",
    "De referentie van de klant ontbreekt: vul hun ordernummer of de referentie die zij opgaven in "
    "(bij overheden: het inkoopordernummer of hun 'referentie') op de verkoopfactuur of -order in AFAS, "
    "of als standaardreferentie op de debiteurkaart.",
)
_TOTALS = Text(
    "The totals do not add up (usually rounding). Check that each line's VAT code in AFAS has the right "
    "percentage, that amounts are rounded to 2 decimals per line, and that no line or discount was added "
    "after the totals were calculated; then recalculate and send the invoice again.",
    "De totalen kloppen niet (meestal afronding). Controleer in AFAS of de btw-code op elke regel het juiste "
    "percentage heeft, dat bedragen per regel op 2 decimalen zijn afgerond en dat er geen regel of korting is "
    "toegevoegd nadat de totalen zijn berekend; herbereken de factuur en verstuur hem opnieuw.",
)
_VAT_AMOUNT = Text(
    "The VAT amount does not match base x rate. Check the VAT code (btw-code) on the invoice lines in AFAS: "
    "the percentage must be the real rate (21, 9 or 0), and all lines with the same code must use that rate.",
    "Het btw-bedrag is niet gelijk aan grondslag x tarief. Controleer de btw-code op de factuurregels in AFAS: "
    "het percentage moet het echte tarief zijn (21, 9 of 0) en alle regels met dezelfde code moeten dat tarief hebben.",
)
_EXEMPTION_REASON = Text(
    "For VAT-exempt or reverse-charge lines an exemption reason must be sent. Use an AFAS VAT code of the "
    "right type (exempt, or 'btw verlegd' for reverse charge) whose description/reason is filled in, "
    "e.g. 'Reverse charge' / 'BTW verlegd'.",
    "Bij vrijgestelde of verlegde btw moet een vrijstellingsreden mee. Gebruik in AFAS een btw-code van het "
    "juiste soort (vrijgesteld, of 'btw verlegd') waarvan de omschrijving/reden is ingevuld, "
    "bijv. 'BTW verlegd'.",
)
_VAT_ID = Text(
    "A VAT number must start with its two-letter country code (NL123456789B01, BE0123456789, ...). Correct the "
    "VAT number of your administration or on the debtor's organisation card in AFAS.",
    "Een btw-nummer moet beginnen met de landcode van twee letters (NL123456789B01, BE0123456789, ...). Corrigeer "
    "het btw-nummer van uw administratie of op de organisatiekaart van de debiteur in AFAS.",
)
_IBAN = Text(
    "For payment by credit transfer the IBAN to pay to must be sent. Set the bank account (IBAN) of your "
    "administration in AFAS and make sure the invoice's payment method is bank transfer.",
    "Bij betaling per overschrijving moet het IBAN waarop betaald wordt mee. Stel in AFAS de bankrekening (IBAN) "
    "van uw administratie in en controleer dat de betaalwijze van de factuur 'overboeking' is.",
)
_CUSTOMER_ENDPOINT = Text(
    "The customer's Peppol address is missing. Look the customer up in the Peppol directory (usually their KvK "
    "number, scheme 0106, or OIN, scheme 0190) and store it on the debtor in AFAS / in the portal before sending.",
    "Het Peppol-adres van de klant ontbreekt. Zoek de klant op in de Peppol-directory (meestal hun KvK-nummer, "
    "schema 0106, of OIN, schema 0190) en leg het vast bij de debiteur in AFAS / in het portaal voordat u verstuurt.",
)

HINTS: dict[str, Text] = {
    # Peppol BIS Billing 3.0
    "PEPPOL-EN16931-R003": _BUYER_REFERENCE,
    "BR-NL-2": _BUYER_REFERENCE,
    "PEPPOL-EN16931-R010": _CUSTOMER_ENDPOINT,
    "PEPPOL-EN16931-R020": Text(
        "Your own Peppol address (electronic address of the seller) is missing: register the administration in "
        "the portal with its KvK number so it is sent as the seller's endpoint (scheme 0106).",
        "Uw eigen Peppol-adres (elektronisch adres van de verkoper) ontbreekt: registreer de administratie in het "
        "portaal met het KvK-nummer, zodat het als endpoint van de verkoper wordt verstuurd (schema 0106).",
    ),
    "PEPPOL-EN16931-R008": Text(
        "The document contains an empty element: a field in AFAS that is filled with spaces only (e.g. an address "
        "line, reference or e-mail address on the debtor). Clear it or fill it in properly.",
        "Het document bevat een leeg element: een veld in AFAS met alleen spaties (bijv. een adresregel, referentie "
        "of e-mailadres bij de debiteur). Maak het leeg of vul het correct in.",
    ),
    "PEPPOL-EN16931-R120": Text(
        "A line amount is not quantity x price (+ charges - discounts). Check for prices with more than 2 decimals "
        "or a price unit (per 100, per 1000) on the article in AFAS, and for line discounts entered as an amount.",
        "Een regelbedrag is niet aantal x prijs (+ toeslagen - kortingen). Controleer op prijzen met meer dan 2 "
        "decimalen of een prijseenheid (per 100, per 1000) bij het artikel in AFAS, en op regelkortingen als bedrag.",
    ),
    "PEPPOL-EN16931-R040": Text(
        "A discount or charge amount is not base x percentage / 100. Check the discount percentage and its "
        "rounding on the invoice in AFAS.",
        "Een korting- of toeslagbedrag is niet grondslag x percentage / 100. Controleer het kortingspercentage en "
        "de afronding ervan op de factuur in AFAS.",
    ),
    # EN 16931 core
    "BR-CO-09": _VAT_ID,
    "BR-CO-10": _TOTALS,
    "BR-CO-13": _TOTALS,
    "BR-CO-14": _TOTALS,
    "BR-CO-15": _TOTALS,
    "BR-CO-16": Text(
        "The amount due is not total incl. VAT - prepaid + rounding. Check advance payments and payment rounding "
        "on the invoice in AFAS.",
        "Het te betalen bedrag is niet totaal incl. btw - vooruitbetaald + afronding. Controleer vooruitbetalingen "
        "en betaalafronding op de factuur in AFAS.",
    ),
    "BR-CO-17": _VAT_AMOUNT,
    "BR-S-08": _VAT_AMOUNT,
    "BR-S-09": _VAT_AMOUNT,
    "BR-S-05": Text(
        "A line with the standard VAT category has rate 0. Use a 0% / exempt VAT code in AFAS instead, or correct "
        "the percentage of the VAT code.",
        "Een regel met de standaard btw-categorie heeft tarief 0. Gebruik in AFAS een 0%- of vrijgestelde btw-code, "
        "of corrigeer het percentage van de btw-code.",
    ),
    "BR-S-02": Text(
        "Lines with VAT need the seller's VAT number: fill in the VAT number (btw-nummer) of your own "
        "administration in AFAS.",
        "Regels met btw vereisen het btw-nummer van de verkoper: vul het btw-nummer van uw eigen administratie in AFAS in.",
    ),
    "BR-AE-02": Text(
        "Reverse charge needs the VAT numbers of both parties: fill in your own VAT number and the customer's VAT "
        "number on the debtor's organisation card in AFAS.",
        "Verlegde btw vereist de btw-nummers van beide partijen: vul uw eigen btw-nummer en het btw-nummer van de "
        "klant op de organisatiekaart van de debiteur in AFAS in.",
    ),
    "BR-E-10": _EXEMPTION_REASON,
    "BR-AE-10": _EXEMPTION_REASON,
    "BR-O-02": Text(
        "Lines 'not subject to VAT' (category O) may not carry VAT numbers. Use a different VAT code in AFAS, or "
        "do not mix category O with other VAT codes on one invoice.",
        "Regels 'niet onderworpen aan btw' (categorie O) mogen geen btw-nummers hebben. Gebruik in AFAS een andere "
        "btw-code, of combineer categorie O niet met andere btw-codes op één factuur.",
    ),
    "BR-06": Text(
        "The seller's name is missing: fill in the name of your own administration in AFAS.",
        "De naam van de verkoper ontbreekt: vul de naam van uw eigen administratie in AFAS in.",
    ),
    "BR-07": Text(
        "The customer's name is missing: fill in the name on the debtor's organisation card in AFAS.",
        "De naam van de klant ontbreekt: vul de naam in op de organisatiekaart van de debiteur in AFAS.",
    ),
    "BR-10": _CUSTOMER_ADDRESS,
    "BR-11": _CUSTOMER_ADDRESS,
    "BR-16": Text(
        "The invoice has no lines. Add at least one invoice line in AFAS (a text-only invoice cannot be sent).",
        "De factuur heeft geen regels. Voeg in AFAS minstens één factuurregel toe (een factuur met alleen tekst kan "
        "niet worden verstuurd).",
    ),
    "BR-25": Text(
        "An invoice line has no item name. Give the article (or the free line) a description in AFAS.",
        "Een factuurregel heeft geen artikelnaam. Geef het artikel (of de vrije regel) een omschrijving in AFAS.",
    ),
    "BR-27": Text(
        "A line has a negative price. Enter the credit as a negative quantity with a positive price in AFAS.",
        "Een regel heeft een negatieve prijs. Voer de creditering in AFAS in als negatief aantal met een positieve prijs.",
    ),
    "BR-61": _IBAN,
    "BR-50": _IBAN,
    "BR-CO-26": _SUPPLIER_KVK,
    "BR-CL-14": Text(
        "A country code is not a valid ISO code (NL, BE, DE, ...). Check the country on the address of the debtor "
        "and of your own administration in AFAS.",
        "Een landcode is geen geldige ISO-code (NL, BE, DE, ...). Controleer het land bij het adres van de debiteur "
        "en van uw eigen administratie in AFAS.",
    ),
    "BR-CL-23": Text(
        "A unit of measure is not a UN/ECE code (e.g. C62 = piece, HUR = hour, KGM = kilogram). Map the unit of the "
        "article in AFAS to one of these codes.",
        "Een eenheid is geen UN/ECE-code (bijv. C62 = stuk, HUR = uur, KGM = kilogram). Koppel de eenheid van het "
        "artikel in AFAS aan een van deze codes.",
    ),
    # NLCIUS (SI-UBL 2.0) and the Dutch rules of Peppol (NL-R-*)
    "BR-NL-1": _SUPPLIER_KVK,
    "NL-R-003": _SUPPLIER_KVK,
    "BR-NL-3": _SUPPLIER_ADDRESS,
    "NL-R-002": _SUPPLIER_ADDRESS,
    "BR-NL-4": _CUSTOMER_ADDRESS,
    "NL-R-004": _CUSTOMER_ADDRESS,
    "BR-NL-10": Text(
        "For a Dutch customer their KvK number (scheme 0106) or, for government, their OIN (scheme 0190) must be "
        "sent: fill in the KvK number on the debtor's organisation card in AFAS.",
        "Voor een Nederlandse klant moet hun KvK-nummer (schema 0106) of, bij overheden, hun OIN (schema 0190) mee: "
        "vul het KvK-nummer in op de organisatiekaart van de debiteur in AFAS.",
    ),
    "BR-NL-11": Text(
        "A payment method is required: set the payment method (e.g. bank transfer) and bank account on the "
        "invoice / debtor in AFAS.",
        "Een betaalwijze is verplicht: stel de betaalwijze (bijv. overboeking) en bankrekening in op de factuur / "
        "debiteur in AFAS.",
    ),
    "NL-R-007": Text(
        "A payment method is required: set the payment method (e.g. bank transfer) and bank account on the "
        "invoice / debtor in AFAS.",
        "Een betaalwijze is verplicht: stel de betaalwijze (bijv. overboeking) en bankrekening in op de factuur / "
        "debiteur in AFAS.",
    ),
    "BR-NL-12": Text(
        "The payment method code must be 30, 48, 49, 57, 58 or 59 (58 = SEPA transfer, 59 = SEPA direct debit). "
        "Map the payment method of the debtor in AFAS accordingly.",
        "De betaalwijzecode moet 30, 48, 49, 57, 58 of 59 zijn (58 = SEPA-overboeking, 59 = SEPA-incasso). "
        "Koppel de betaalwijze van de debiteur in AFAS daaraan.",
    ),
    "BR-NL-13": Text(
        "Lines refer to an order line but the invoice has no order number: fill in the customer's order number on "
        "the invoice in AFAS.",
        "Regels verwijzen naar een orderregel maar de factuur heeft geen ordernummer: vul het ordernummer van de "
        "klant in op de factuur in AFAS.",
    ),
    "BR-NL-29": Text(
        "Not an error: the payment means carries a free text name, which NLCIUS advises against. Leave the payment "
        "method description empty; the IBAN and the code (58 = SEPA transfer) are what the customer needs.",
        "Geen fout: de betaalwijze heeft een vrije omschrijving, wat NLCIUS afraadt. Laat de omschrijving van de "
        "betaalwijze leeg; het IBAN en de code (58 = SEPA-overboeking) zijn wat de klant nodig heeft.",
    ),
    "BR-NL-9": Text(
        "A corrective invoice (type 384) must refer to the invoice it corrects: fill in the original invoice number "
        "in AFAS.",
        "Een correctiefactuur (type 384) moet verwijzen naar de factuur die hij corrigeert: vul het oorspronkelijke "
        "factuurnummer in AFAS in.",
    ),
    "NL-R-001": Text(
        "A credit note must refer to the invoice it credits: fill in the original invoice number on the credit "
        "note in AFAS.",
        "Een creditnota moet verwijzen naar de factuur die hij crediteert: vul het oorspronkelijke factuurnummer "
        "in op de creditnota in AFAS.",
    ),
    "BR-NL-8": Text(
        "A credit note (type 381) must be sent as a CreditNote document, not as an Invoice.",
        "Een creditnota (type 381) moet als CreditNote-document worden verstuurd, niet als Invoice.",
    ),
    "UBL-SR-09": Text(
        "The seller has more than one legal name: keep one name for your own administration.",
        "De verkoper heeft meer dan één juridische naam: houd één naam aan voor uw eigen administratie.",
    ),
    "UBL-SR-15": Text(
        "The customer has more than one legal name: keep one name on the debtor's organisation card in AFAS.",
        "De klant heeft meer dan één juridische naam: houd één naam aan op de organisatiekaart van de debiteur in AFAS.",
    ),
}

_BRACKET_PREFIX = re.compile(r"^\s*\[([A-Za-z0-9-]+)\]")


def rule_prefix(message: str) -> str | None:
    """The ``[RULE-ID]`` prefix of an SVRL message, if it has one."""
    match = _BRACKET_PREFIX.match(message)
    return match.group(1) if match else None


def hint_for(rule_id: str, message: str = "") -> Text | None:
    """The hint for a rule id; SI-UBL sub-rules (``BR-NL-27-1``) fall back to their message prefix (``[BR-NL-27]``)."""
    if rule_id in HINTS:
        return HINTS[rule_id]
    prefix = rule_prefix(message)
    if prefix and prefix in HINTS:
        return HINTS[prefix]
    return None


XML_HINTS: dict[str, Text] = {
    "empty": Text("Export the invoice again.", "Exporteer de factuur opnieuw."),
    "too_large": Text(
        "Usually an attached PDF is too big: attach a smaller (compressed) PDF.",
        "Meestal is een bijgevoegde PDF te groot: voeg een kleinere (gecomprimeerde) PDF toe.",
    ),
    "not_xml": Text(
        "The file is damaged or not an XML invoice: export the UBL invoice again.",
        "Het bestand is beschadigd of geen XML-factuur: exporteer de UBL-factuur opnieuw.",
    ),
    "truncated": Text(
        "The file was cut off during export or upload: export and upload it again.",
        "Het bestand is afgebroken tijdens export of upload: exporteer en upload het opnieuw.",
    ),
    "too_deep": Text(
        "No invoice nests elements this deeply: this is not a genuine UBL invoice; use the original UBL file.",
        "Geen factuur nest elementen zo diep: dit is geen echte UBL-factuur; gebruik het oorspronkelijke UBL-bestand.",
    ),
    "dtd_forbidden": Text(
        "This is not a UBL invoice as AFAS or an access point produces it; use the original UBL file.",
        "Dit is geen UBL-factuur zoals AFAS of een access point die maakt; gebruik het oorspronkelijke UBL-bestand.",
    ),
    "not_ubl": Text(
        "Only UBL 2.1 invoices and credit notes can be sent over Peppol: export the invoice as UBL.",
        "Alleen UBL 2.1-facturen en -creditnota's kunnen via Peppol: exporteer de factuur als UBL.",
    ),
}
VALIDATOR_HINTS: dict[str, Text] = {
    "VALIDATOR-ERROR": Text(
        "The official rules could not finish on this document, which happens when an element occurs twice where "
        "only one is allowed, e.g. two legal names (RegistrationName) for one party. Check the names on the debtor's "
        "organisation card and of your own administration in AFAS.",
        "De officiële regels konden dit document niet afmaken; dat gebeurt als een element twee keer voorkomt waar "
        "er maar één mag zijn, bijv. twee juridische namen (RegistrationName) voor één partij. Controleer de namen "
        "op de organisatiekaart van de debiteur en van uw eigen administratie in AFAS.",
    ),
    "RULES-MISSING": Text(
        "Ask the administrator to install the official rules pack (manage.py peppol rules install) or to set "
        "PEPPOL_RULES_DIR.",
        "Vraag de beheerder het officiële regelpakket te installeren (manage.py peppol rules install) of "
        "PEPPOL_RULES_DIR in te stellen.",
    ),
    "RULES-PACK-INVALID": Text(
        "Ask the administrator to reinstall the official rules pack (manage.py peppol rules install) and check "
        "it with manage.py peppol rules status.",
        "Vraag de beheerder het officiële regelpakket opnieuw te installeren (manage.py peppol rules install) en "
        "het te controleren met manage.py peppol rules status.",
    ),
}


def xml_hint(kind: str, message: Text) -> Text:
    """For a document the hardened parser refused: the bilingual reason plus what to do about it."""
    advice = XML_HINTS.get(kind)
    if advice is None:
        return message
    return Text(f"{message.en} {advice.en}", f"{message.nl} {advice.nl}")


def xsd_hint(message: str) -> Text:
    """XSD errors are about the file's structure: the UBL generator, not a field in AFAS, is usually at fault."""
    if "is not a valid value" in message or "not accepted by the pattern" in message or "not a valid" in message:
        return XSD_VALUE_HINT
    return XSD_HINT


def validator_error_hint(rule_id: str) -> Text | None:
    return VALIDATOR_HINTS.get(rule_id)


XSD_HINT = Text(
    "The file does not follow the UBL 2.1 structure (an element is missing, misplaced or unknown). This comes from "
    "the program that made the UBL file, not from a field you can fill in: report it with this message.",
    "Het bestand volgt de UBL 2.1-structuur niet (een element ontbreekt, staat op de verkeerde plek of is onbekend). "
    "Dit komt door het programma dat het UBL-bestand maakte, niet door een veld dat u kunt invullen: meld het met "
    "deze melding.",
)
XSD_VALUE_HINT = Text(
    "A value has the wrong format (e.g. a date must be YYYY-MM-DD, an amount uses a dot and at most 2 decimals). "
    "Check the field named in the message in AFAS.",
    "Een waarde heeft het verkeerde formaat (bijv. een datum moet JJJJ-MM-DD zijn, een bedrag gebruikt een punt en "
    "hoogstens 2 decimalen). Controleer het veld uit de melding in AFAS.",
)
