from integrations.peppol.document_types import DocumentType as PeppolDocumentType
from portal.core.choices import DocumentType


def test_portal_and_peppol_document_types_share_their_values():
    assert {member.value for member in PeppolDocumentType} == set(DocumentType.values)


def test_each_document_type_has_its_ubl_type_code():
    assert (PeppolDocumentType.INVOICE.type_code, PeppolDocumentType.CREDIT_NOTE.type_code) == ("380", "381")
