from datetime import date

from integrations.econnect.models import AccessPoint, LookupResult, ParticipantLookup, Reachability
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier
from integrations.peppol.parser import parse_document
from portal.outgoing_invoices.recipients import resolve_recipient
from portal.outgoing_invoices.sample_invoice import build_test_invoice


class DirectoryStub:
    """A Peppol directory in which only the given identifiers can receive."""

    def __init__(self, *receiving: str):
        self.receiving = set(receiving)
        self.asked: list[str] = []

    def look_up_participants(self, candidates, document_type):
        self.asked = [candidate.icd for candidate in candidates]
        return LookupResult(
            document_type,
            tuple(
                ParticipantLookup(
                    candidate,
                    Reachability.REGISTERED if candidate.icd in self.receiving else Reachability.NOT_REGISTERED,
                    access_point=AccessPoint.ECONNECT,
                )
                for candidate in candidates
            ),
        )


def summary_with_endpoint(scheme: str, value: str):
    from integrations.peppol.model import Identifier

    ubl = build_test_invoice(
        organisation_name="Klant B.V.",
        identifier=Identifier(scheme, value),
        kvk="30123456",
        number="F-1",
        issue_date=date(2026, 11, 2),
        token="0" * 32,
    )
    return parse_document(ubl)


def test_the_ubl_endpoint_is_used_when_it_can_receive():
    directory = DirectoryStub("0106:30123456")

    resolution = resolve_recipient(
        summary=summary_with_endpoint("0106", "30123456"), directory=directory, document_type=DocumentType.INVOICE
    )

    assert resolution.recipient == PeppolIdentifier("0106", "30123456")


def test_the_contacts_identifiers_are_tried_after_the_endpoint_in_one_lookup():
    directory = DirectoryStub("9944:NL801234566B01")
    contact_ids = [PeppolIdentifier("0190", "00000001001234567000"), PeppolIdentifier("9944", "NL801234566B01")]

    resolution = resolve_recipient(
        summary=summary_with_endpoint("0088", "8712345678906"),
        directory=directory,
        document_type=DocumentType.INVOICE,
        contact_identifiers=contact_ids,
    )

    assert resolution.recipient == PeppolIdentifier("9944", "NL801234566B01")
    assert directory.asked[:3] == ["0088:8712345678906", "0190:00000001001234567000", "9944:NL801234566B01"]


def test_nobody_receiving_gives_no_recipient_and_says_what_was_tried():
    resolution = resolve_recipient(
        summary=summary_with_endpoint("0106", "30123456"), directory=DirectoryStub(), document_type=DocumentType.INVOICE
    )

    assert resolution.recipient is None
    assert "0106:30123456: not registered on Peppol" in resolution.explanation
