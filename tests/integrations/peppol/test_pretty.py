"""The pretty-printed UBL: indented for reading, embedded PDFs left out, a refused document shown as its raw text."""

from integrations.peppol.builder import build_ubl
from integrations.peppol.pretty import pretty_xml
from tests.integrations.peppol import builders as b


def built(**overrides) -> bytes:
    return build_ubl(b.invoice(**overrides))


def test_pretty_xml_indents_the_document():
    compact = b"".join(line.strip() for line in built().splitlines())

    text = pretty_xml(compact)

    assert "\n  <cbc:CustomizationID>" in text
    assert "<cbc:ID>F2025-0001</cbc:ID>" in text


def test_pretty_xml_leaves_out_embedded_pdfs():
    data = built(attachments=(b.pdf_attachment(content=b"%PDF-1.4\n" + b"x" * 5000),))

    text = pretty_xml(data)

    assert "characters of base64 left out" in text
    assert len(text) < len(data)


def test_pretty_xml_shows_a_refused_document_as_its_raw_text():
    hostile = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>'

    text = pretty_xml(hostile)

    assert text == hostile.decode()
    assert "root:" not in text
