"""The hardened XML entry point: hostile input is refused with a kind, and nothing outside the bytes is ever touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, find_ubl_document, parse_untrusted_xml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "peppol"
HOSTILE = FIXTURES / "hostile"
MARKER = "MARKER-7f3a9c1e-never-read"
INVOICE_OPEN = (
    f'<Invoice xmlns="{ns.INVOICE}" xmlns:cac="{ns.CAC}" xmlns:cbc="{ns.CBC}">'
    "<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>"
)


def invoice(body: str = "<cbc:ID>INV-1</cbc:ID>", prolog: str = '<?xml version="1.0"?>\n') -> bytes:
    return f"{prolog}{INVOICE_OPEN}{body}</Invoice>".encode()


def refusal(data: bytes, **kwargs) -> XmlRejected:
    with pytest.raises(XmlRejected) as caught:
        parse_untrusted_xml(data, **kwargs)
    return caught.value


# Tripwires: prove that no file is opened and no connection is made. They run in a subprocess so that a parser
# blocked on the FIFO or the socket (while holding the GIL) is released instead of hanging the test.

_FIFO_WATCH = r"""
import os, sys, time
path, seconds, marker = sys.argv[1], float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while someone has the FIFO open for reading
    except OSError:
        time.sleep(0.002)
        continue
    os.write(fd, marker.encode())
    os.close(fd)
    print("OPENED", flush=True)
    break
"""

_HTTP_WATCH = r"""
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1], flush=True)
server.settimeout(float(sys.argv[1]))
try:
    connection, _ = server.accept()
    print("CONNECTED", flush=True)
    connection.close()
except OSError:
    pass
"""


class Tripwire:
    def __init__(self, process: subprocess.Popen, target: str):
        self.process = process
        self.target = target

    def tripped(self) -> bool:
        time.sleep(0.05)  # give a pending open()/connect() the chance to be seen
        self.process.terminate()
        output, _ = self.process.communicate(timeout=10)
        return "OPENED" in output or "CONNECTED" in output


@pytest.fixture
def file_tripwire(tmp_path):
    """A FIFO path that reports whether anybody opened it for reading; it would deliver MARKER if read."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs POSIX FIFOs")
    fifo = tmp_path / "secret.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-c", _FIFO_WATCH, str(fifo), "30", MARKER], stdout=subprocess.PIPE, text=True
    )
    yield Tripwire(process, str(fifo))
    process.kill()
    process.wait()


@pytest.fixture
def http_tripwire():
    """A local HTTP address that reports whether anybody connected to it."""
    process = subprocess.Popen([sys.executable, "-c", _HTTP_WATCH, "30"], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    yield Tripwire(process, f"http://127.0.0.1:{port}/secret.dtd")
    process.kill()
    process.wait()


@pytest.fixture
def marker_file(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    return path


# --- DTDs, entities, XInclude -----------------------------------------------------------------------------------------


def test_a_file_entity_is_refused_without_opening_the_file(file_tripwire):
    data = invoice(
        "<cbc:ID>&secret;</cbc:ID>",
        prolog=f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file://{file_tripwire.target}">]>',
    )
    rejected = refusal(data)
    assert not file_tripwire.tripped()
    assert rejected.kind == "dtd_forbidden"


def test_an_external_dtd_on_disk_is_refused_without_opening_it(file_tripwire):
    data = invoice(prolog=f'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "file://{file_tripwire.target}">')
    rejected = refusal(data)
    assert not file_tripwire.tripped()
    assert rejected.kind == "dtd_forbidden"


def test_an_external_parameter_entity_is_refused_without_opening_its_file(file_tripwire):
    data = invoice(
        prolog=f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "{file_tripwire.target}"> %p;]>'
    )
    rejected = refusal(data)
    assert not file_tripwire.tripped()
    assert rejected.kind == "dtd_forbidden"


@pytest.mark.parametrize("kind_of_reference", ["entity", "external_dtd", "parameter_entity"])
def test_http_references_make_no_network_connection(http_tripwire, kind_of_reference):
    url = http_tripwire.target
    prolog = {
        "entity": f'<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "{url}">]>',
        "external_dtd": f'<!DOCTYPE Invoice SYSTEM "{url}">',
        "parameter_entity": f'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "{url}"> %p;]>',
    }[kind_of_reference]
    rejected = refusal(invoice(prolog=prolog))
    assert not http_tripwire.tripped()
    assert rejected.kind == "dtd_forbidden"


def test_the_content_of_a_referenced_file_never_reaches_the_message(marker_file):
    for prolog in (
        f'<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file://{marker_file}">]>',
        f'<!DOCTYPE Invoice SYSTEM "file://{marker_file}">',
        f'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "file://{marker_file}"> %p;]>',
    ):
        rejected = refusal(invoice("<cbc:ID>&secret;</cbc:ID>", prolog=prolog))
        assert rejected.kind == "dtd_forbidden"
        shown = f"{rejected} {rejected.message.en} {rejected.message.nl}"
        assert MARKER not in shown
        assert marker_file.name not in shown


def test_xinclude_is_left_as_an_element_and_its_file_never_opened(file_tripwire):
    data = invoice(
        f'<cbc:ID>INV-1</cbc:ID><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        f'href="{file_tripwire.target}" parse="text"/>'
    )
    tree = parse_untrusted_xml(data)
    assert tree.getroot()[-1].tag == "{http://www.w3.org/2001/XInclude}include"
    assert MARKER not in etree.tostring(tree, encoding="unicode")
    assert not file_tripwire.tripped()


def test_billion_laughs_is_refused_at_once():
    started = time.monotonic()
    assert refusal((HOSTILE / "billion_laughs.xml").read_bytes()).kind == "dtd_forbidden"
    assert time.monotonic() - started < 1


def test_quadratic_blowup_is_refused_at_once():
    entity = "A" * 50_000
    data = invoice(
        "<cbc:ID>" + "&a;" * 20_000 + "</cbc:ID>",
        prolog=f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY a "{entity}">]>',
    )
    started = time.monotonic()
    assert refusal(data).kind == "dtd_forbidden"
    assert time.monotonic() - started < 1


def test_an_internal_dtd_without_entities_is_refused_too():
    assert refusal(invoice(prolog="<!DOCTYPE Invoice>")).kind == "dtd_forbidden"


def test_a_dtd_after_a_long_comment_is_still_found_before_it_is_read(file_tripwire):
    prolog = f'<!-- {"x" * 200_000} -->\n<!DOCTYPE Invoice SYSTEM "file://{file_tripwire.target}">'
    rejected = refusal(invoice(prolog=prolog))
    assert not file_tripwire.tripped()
    assert rejected.kind == "dtd_forbidden"


def test_an_undefined_entity_is_not_xml_and_not_truncated():
    assert refusal((HOSTILE / "undefined_entity.xml").read_bytes()).kind == "not_xml"


# --- size, depth, truncation, non-XML -----------------------------------------------------------------------------------


def test_input_over_the_size_limit_is_refused_before_parsing():
    rejected = refusal(invoice("<cbc:Note>" + "x" * 5_000 + "</cbc:Note>"), max_bytes=1_000)
    assert rejected.kind == "too_large"
    assert "1,000" in rejected.message.en and "1,000" in rejected.message.nl


def test_input_at_the_size_limit_is_accepted():
    data = invoice()
    assert parse_untrusted_xml(data, max_bytes=len(data)).getroot().tag == ns.INVOICE_ROOT


def test_the_default_size_limit_is_20_mb():
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_a_text_node_over_10_mb_is_accepted_because_attachments_can_be_that_large():
    attachment = "QUJD" * 3_000_000  # 12 MB of base64, more than libxml2's default limit for one text node
    data = invoice(
        f'<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="big.pdf">{attachment}</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>'
    )
    tree = parse_untrusted_xml(data)
    assert len(tree.getroot()[-1][-1][0].text) == len(attachment)


def test_nesting_deeper_than_10000_levels_is_refused():
    data = invoice("<cbc:Note>" * 10_001 + "</cbc:Note>" * 10_001)
    assert refusal(data).kind == "too_deep"


def test_nesting_of_a_few_hundred_levels_is_still_xml():
    data = invoice("<cbc:Note>" * 300 + "</cbc:Note>" * 300)
    assert parse_untrusted_xml(data).getroot().tag == ns.INVOICE_ROOT


def test_a_valid_document_cut_short_is_refused_as_truncated():
    data = (FIXTURES / "edge" / "nlcius_invoice.xml").read_bytes()
    root_start = data.index(b"<Invoice")
    for cut in range(root_start + 10, len(data) - 12, 97):
        assert refusal(data[:cut]).kind == "truncated", cut


def test_the_authored_truncated_invoice_is_refused_as_truncated():
    rejected = refusal((HOSTILE / "truncated_invoice.xml").read_bytes())
    assert rejected.kind == "truncated"
    assert "truncated" in rejected.message.en and "afgekapt" in rejected.message.nl


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("empty.xml", "empty"),
        ("whitespace_only.xml", "empty"),
        ("invoice.json", "not_xml"),
        ("not_a_pdf_invoice.pdf", "not_xml"),
        ("random_binary.bin", "not_xml"),
        ("trailing_garbage.xml", "not_xml"),
        ("unsupported_encoding.xml", "not_xml"),
        ("page_with_doctype.html", "dtd_forbidden"),
        ("billion_laughs.xml", "dtd_forbidden"),
        ("xxe_http_entity.xml", "dtd_forbidden"),
        ("external_dtd_http.xml", "dtd_forbidden"),
        ("parameter_entity_http.xml", "dtd_forbidden"),
    ],
)
def test_hostile_files_that_are_not_safe_xml_are_refused_with_their_kind(name, kind):
    rejected = refusal((HOSTILE / name).read_bytes())
    assert rejected.kind == kind
    assert rejected.message.en and rejected.message.nl and rejected.message.en != rejected.message.nl


def test_plain_text_without_any_element_is_not_xml():
    assert refusal(b"hostname\n").kind == "not_xml"


def test_a_byte_order_mark_alone_is_empty():
    assert refusal(b"\xef\xbb\xbf").kind == "empty"


def test_a_str_instead_of_bytes_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_untrusted_xml(invoice().decode())


# --- encodings -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "UTF-16LE", "ISO-8859-1", "windows-1252"])
def test_declared_encodings_are_honoured(encoding):
    text = invoice("<cbc:ID>Één–€</cbc:ID>" if encoding not in ("ISO-8859-1",) else "<cbc:ID>Één</cbc:ID>").decode()
    text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    data = text.encode(encoding.replace("windows-", "cp"))
    tree = parse_untrusted_xml(data)
    expected = "Één" if encoding == "ISO-8859-1" else "Één–€"
    assert tree.getroot().find("cbc:ID", ns.XPATH_NS).text == expected


# --- finding the UBL document ---------------------------------------------------------------------------------------


def test_a_bare_invoice_is_found_unwrapped():
    document, wrapped = find_ubl_document(parse_untrusted_xml(invoice()))
    assert document.tag == ns.INVOICE_ROOT and wrapped is False


def test_an_invoice_in_an_sbdh_envelope_is_found_and_marked_wrapped():
    data = (
        f'<StandardBusinessDocument xmlns="{ns.SBDH}"><StandardBusinessDocumentHeader>'
        f"<HeaderVersion>1.0</HeaderVersion></StandardBusinessDocumentHeader>"
        f"{INVOICE_OPEN}<cbc:ID>INV-1</cbc:ID></Invoice></StandardBusinessDocument>"
    ).encode()
    document, wrapped = find_ubl_document(parse_untrusted_xml(data))
    assert document.tag == ns.INVOICE_ROOT and wrapped is True


@pytest.mark.parametrize(
    "name", ["order.xml", "page.html", "invoice_without_namespace.xml", "sbdh_without_document.xml"]
)
def test_well_formed_xml_that_is_no_invoice_or_credit_note_is_not_ubl(name):
    tree = parse_untrusted_xml((HOSTILE / name).read_bytes())
    with pytest.raises(XmlRejected) as caught:
        find_ubl_document(tree)
    assert caught.value.kind == "not_ubl"


def test_a_megabyte_long_root_name_is_shortened_in_the_message():
    name = "x" * 1_000_000
    with pytest.raises(XmlRejected) as caught:
        find_ubl_document(parse_untrusted_xml(f"<{name}/>".encode()))
    assert len(caught.value.message.en) < 500
