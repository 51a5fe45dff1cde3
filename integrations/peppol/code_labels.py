"""The names people read for the UBL codes the portal shows: VAT categories, payment means, units and document types,
in English and Dutch."""

from __future__ import annotations

from integrations.peppol.i18n import Text

# UNCL 5305 VAT categories.
VAT_CATEGORY_LABELS: dict[str, Text] = {
    "S": Text("Standard rate", "Standaardtarief"),
    "Z": Text("Zero rated", "Nultarief"),
    "E": Text("Exempt from VAT", "Vrijgesteld van btw"),
    "AE": Text("VAT reverse charge", "Btw verlegd"),
    "K": Text("Intra-community supply", "Intracommunautaire levering"),
    "G": Text("Export outside the EU", "Export buiten de EU"),
    "O": Text("Not subject to VAT", "Niet onderworpen aan btw"),
    "L": Text("Canary Islands tax (IGIC)", "Canarische belasting (IGIC)"),
    "M": Text("Ceuta and Melilla tax (IPSI)", "Belasting Ceuta en Melilla (IPSI)"),
}
# UNCL 4461 payment means most used on Dutch invoices.
PAYMENT_MEANS_LABELS: dict[str, Text] = {
    "1": Text("Not defined", "Niet gedefinieerd"),
    "10": Text("Cash", "Contant"),
    "30": Text("Credit transfer", "Overboeking"),
    "31": Text("Debit transfer", "Debetoverboeking"),
    "42": Text("Payment to bank account", "Betaling op bankrekening"),
    "48": Text("Bank card", "Bankkaart"),
    "49": Text("Direct debit", "Automatische incasso"),
    "54": Text("Credit card", "Creditcard"),
    "57": Text("Standing agreement", "Doorlopende afspraak"),
    "58": Text("SEPA credit transfer", "SEPA-overboeking"),
    "59": Text("SEPA direct debit", "SEPA-incasso"),
    "97": Text("Clearing between partners", "Verrekening tussen partijen"),
    "ZZZ": Text("Mutually defined", "Onderling afgesproken"),
}
# UN/ECE Recommendation 20 (and 21) units seen on invoices.
UNIT_LABELS: dict[str, Text] = {
    "C62": Text("piece", "stuk"),
    "H87": Text("piece", "stuk"),
    "EA": Text("each", "stuk"),
    "XPP": Text("piece", "stuk"),
    "HUR": Text("hour", "uur"),
    "MIN": Text("minute", "minuut"),
    "DAY": Text("day", "dag"),
    "WEE": Text("week", "week"),
    "MON": Text("month", "maand"),
    "QAN": Text("quarter", "kwartaal"),
    "ANN": Text("year", "jaar"),
    "KGM": Text("kilogram", "kilogram"),
    "GRM": Text("gram", "gram"),
    "TNE": Text("tonne", "ton"),
    "MTR": Text("metre", "meter"),
    "KMT": Text("kilometre", "kilometer"),
    "MTK": Text("square metre", "vierkante meter"),
    "MTQ": Text("cubic metre", "kubieke meter"),
    "LTR": Text("litre", "liter"),
    "KWH": Text("kilowatt hour", "kilowattuur"),
    "LS": Text("lump sum", "vast bedrag"),
    "SET": Text("set", "set"),
    "PR": Text("pair", "paar"),
    "ZZ": Text("mutually defined", "onderling afgesproken"),
}
# Type codes (UNCL 1001) that are not a plain commercial invoice or credit note.
TYPE_CODE_LABELS: dict[str, Text] = {
    "380": Text("Invoice", "Factuur"),
    "381": Text("Credit note", "Creditnota"),
    "384": Text("Corrected invoice", "Correctiefactuur"),
    "389": Text("Self-billed invoice", "Self-billing factuur"),
    "326": Text("Partial invoice", "Deelfactuur"),
    "386": Text("Prepayment invoice", "Voorschotfactuur"),
    "393": Text("Factored invoice", "Gefactoreerde factuur"),
    "395": Text("Consignment invoice", "Consignatiefactuur"),
    "261": Text("Self-billed credit note", "Self-billing creditnota"),
    "383": Text("Debit note", "Debetnota"),
}
