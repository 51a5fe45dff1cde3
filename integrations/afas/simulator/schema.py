"""What the simulator's environments contain by default: connector definitions (fields as in the official OAS,
plus the organisation's own debtor GetConnector) and the UpdateConnectors it implements."""

from __future__ import annotations


class NAMES:
    """The connectors of a simulated environment whose app connector was set up as the README describes: AFAS's
    standard ones (names from the OAS) and the organisation's own debtor GetConnector. The simulator's own list,
    not the client's: a client reading another name fails here as it would at a real client."""

    debtors = "Peppol_Debtors"
    creditors = "Profit_Creditor"
    administrations = "Profit_Administrations"
    dossier_items = "ProfitSubjectsAuthorized"
    dossier_attachments = "Profit_Subject_Attachments"
    dossier_item_files = "Profit_SubjectFile"
    dossier_item_types = "Profit_SubjectTypes"
    subject_connector = "AppConnectorSubject"
    purchase_invoice = "FiElectronicInvoicePurchase"
    sales_relation = "KnSalesRelationOrg"
    delivered_purchase_invoices = "Peppol_PurchaseEInvoices"
    # A type of the simulated environment's own (positive: user-defined) under which Profit files issued sales
    # invoices; real environments choose their own (profit-dossier-and-sales-invoice-ubl.md section 2).
    sales_invoice_subject_type = 27


# Dossier item types: AFAS's built-in types are negative (knsubject-post.md); -2 and -5 are the published ones.
SUBJECT_TYPES = (
    {"SubjectTypeId": -2, "Description": "Loonstrook", "LinkFile": True},
    {"SubjectTypeId": -5, "Description": "Inkoopfactuur", "LinkFile": True},
    {"SubjectTypeId": NAMES.sales_invoice_subject_type, "Description": "Verkoopfactuur", "LinkFile": True},
)
PROFIT_VERSION = "6.6.9"  # the OAS info.version the simulator follows
ISSUE_METHODS = ("A", "B", "C", "D", "E", "F", "M", "O", "P", "Q", "R", "S", "U", "V", "X", "Y")


def _fields(*specs: tuple[str, str, str]) -> list[dict[str, object]]:
    return [
        {
            "id": field_id,
            "fieldId": f"U{index:03d}",
            "dataType": data_type,
            "label": label,
            "length": 0,
            "controlType": 1,
            "decimals": 0,
            "decimalsFieldId": "",
        }
        for index, (field_id, data_type, label) in enumerate(specs, start=1)
    ]


GET_CONNECTOR_FIELDS: dict[str, dict[str, object]] = {
    NAMES.debtors: {
        "description": "Debiteuren e-facturatie (Peppol bridge) [custom]",
        "fields": _fields(
            ("DebtorId", "string", "Nummer debiteur"),
            ("DebtorName", "string", "Naam debiteur"),
            ("BcCo", "string", "Organisatie/persoon (intern)"),
            ("CcNr", "string", "Nummer Kamer van Koophandel"),
            ("VaId", "string", "Btw-identificatienummer"),
            ("OINr", "string", "OIN-nummer"),
            ("EnId", "string", "Bedrijfs-ID eConnect"),
            ("InPv", "string", "Voorkeur verstrekkingswijze"),
            ("Email", "string", "E-mail werk"),
            ("Blocked", "boolean", "Volledig blokkeren"),
            ("ModifiedDate", "date", "Gewijzigd op"),
        ),
    },
    NAMES.creditors: {
        "description": "Crediteuren",
        "fields": _fields(
            ("CreditorId", "string", "Creditor number"),
            ("CreditorName", "string", "Creditor name"),
            ("BcCo", "string", "Org nr."),
            ("SearchName", "string", "Search name"),
            ("Adressline1", "string", "Address line 1 (street - house number)"),
            ("Adressline3", "string", "Address line 3 (postcode - city)"),
            ("Adressline4", "string", "Address line 4 (country)"),
            ("TelNr", "string", "Work phone no."),
            ("Email", "string", "Work e-mail"),
            ("IBAN", "string", "IBAN number"),
            ("Btw-nummer", "string", "VAT identification number"),
            ("ChOfCommNr", "string", "COC number"),
            ("PaymentCondition", "string", "Betalingsvoorwaarde"),
            ("CreditLimit", "decimal", "Credit limit"),
            ("TempBlocked", "boolean", "Block temporarily"),
            ("VatDuty", "string", "VAT duty"),
            ("AutoPayment", "boolean", "Automatic payment"),
            ("Blocked", "boolean", "Block completely, no longer visible"),
            ("CreateDate", "date", "Created on"),
            ("ModifiedDate", "date", "Changed on"),
        ),
    },
    NAMES.administrations: {
        "description": "Administraties (Profit)",
        "fields": _fields(
            ("AdminId", "int", "Administratie"), ("AdminNm", "string", "Naam"), ("AdminCd", "string", "Code")
        ),
    },
    NAMES.dossier_items: {
        "description": "File items (with authorisation)",
        "fields": _fields(
            ("SbTy", "int", "Dossier item type"),
            ("SbId", "int", "Dossier item"),
            ("DaSe", "date", "Submission date"),
            ("Ds", "string", "Subject"),
            ("Memo", "string", "Comment"),
            ("Stat", "string", "Codetabelwaarde"),
            ("DoId", "int", "Number"),
            ("FeV1", "int", "Feature value 1"),
            ("FeV2", "int", "Feature value 2"),
            ("FeV3", "int", "Feature value 3"),
            ("BcId", "int", "Organisation/person"),
            ("BcCd", "string", "Number"),
            ("ToEr", "boolean", "Employer"),
        ),
    },
    NAMES.dossier_attachments: {
        "description": "Files for dossier",
        "fields": _fields(
            ("attachment_id", "int", "Attachment ID"),
            ("subject_id", "int", "Dossier item"),
            ("file_id", "string", "Attachment"),
            ("file_name", "string", "Name"),
        ),
    },
    NAMES.dossier_item_files: {
        "description": "File items (without authorisation)",
        "fields": _fields(
            ("SubjectId", "int", "Dossier item"),
            ("Subject", "string", "Subject"),
            ("TypeId", "int", "Dossier item type"),
            ("FiEntryNumber", "int", "Journal entry number"),
            ("BookPieceNumber", "string", "Entry number"),
            ("PurchaseInvoiceNumber", "string", "Inkoopfactuurnummer"),
            ("AdministrationPurchaseInvoice", "int", "Administratie inkoopfactuur"),
            ("SalesInvoiceNumber", "string", "Verkoopfactuurnummer"),
            ("AdministrationSalesInvoice", "int", "Administratie verkoopfactuur"),
        ),
    },
    NAMES.dossier_item_types: {
        "description": "File item types",
        "fields": _fields(
            ("SubjectTypeId", "int", "Dossier item type"),
            ("Description", "string", "Description"),
            ("LinkFile", "boolean", "Link file"),
        ),
    },
}

UPDATE_CONNECTORS = {
    NAMES.purchase_invoice: "E-inkoopfactuur",
    NAMES.sales_relation: "Verkooprelatie organisatie",
}
PURCHASE_INVOICE_FIELDS = ("FXml", "XML", "FPdf", "PDF", "Proc", "UnId")
# [GUESS G-AFAS-3] a subset of KnSalesRelationOrg's fields (the OAS lists many more); others are refused as unknown.
SALES_RELATION_FIELDS = ("DbId", "IsDb", "CuId", "VaId", "VaDu", "InPv", "EnId", "OINr", "Bl", "EmAd")

# [GUESS G-AFAS-2] the read-back GetConnector on received e-invoices (``ConnectorNames.delivered_purchase_invoices``); the
# simulator fills it from what FiElectronicInvoicePurchase received.
DELIVERED_PURCHASE_INVOICE_FIELDS = _fields(
    ("EntryId", "int", "Nummer"),
    ("FileName", "string", "Bestandsnaam XML"),
    ("InvoiceNumber", "string", "Factuurnummer"),
    ("InvoiceDate", "date", "Factuurdatum"),
    ("CreditorId", "string", "Crediteur"),
    ("ReceivedOn", "date", "Ontvangen op"),
)
