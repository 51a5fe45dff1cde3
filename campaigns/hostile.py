"""Hostile input campaign: every parser entry point against a corpus of hostile and malformed inputs, plus fuzzing.

    python -m campaigns.hostile [--seconds 60]

Entry points: the received-UBL parser, the readable renderer (``read_document``, ``pretty_xml``), the incoming path
(bytes stored as received, then ``incoming_process``), the eConnect SOAP gateway and the AFAS Profit client (hostile
answers through an ``httpx.MockTransport``), both simulators' ``/_sim`` control APIs (hostile JSON posted in-process)
and the web UI's list filters (hostile query parameters). The corpus is generated (billion laughs, 20 MB documents and
100,000 levels of nesting are built at run time, not committed).

For every case the contract is checked, and any breach is a *problem*:

- no crash: only the documented typed error (``XmlRejected``, a ``RemoteError`` subclass, an HTTP 4xx) or a result;
- no hang: each case within ``TIME_LIMIT`` seconds, measured;
- no file and no network access: a Python audit hook records every file opened outside the interpreter and the
  checkout, every file opened for writing, every socket connect and DNS lookup, every process started; libxml2 (C,
  invisible to audit hooks) is watched by tripwires in subprocesses: a FIFO that notices being opened and a TCP port
  that notices a connection, plus a file whose secret marker must never appear in any result or message;
- a clear message: refusals carry a non-empty (bilingual, for documents) message;
- evidence: a received document is stored byte for byte with its SHA-256 and, when it cannot be read, held as
  ``hostile`` or ``unparseable``.

Then the fuzzers (hypothesis) run for the remaining time: the UBL parser on random bytes, mutations of a valid invoice
from the project's builder and random UBL-shaped trees, and the Peppol identifier parser on random text in both
notations. A table of entry point x input class -> outcome, the slowest case and the fuzz figures is printed; the
exit status is 1 when anything broke the contract.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import hashlib
import io
import json
import logging
import os
import random
import select
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
TIME_LIMIT = 2.0  # seconds per case (and per fuzz example)
# Storing a 20 MB document (twice: bytes and the event) in PostgreSQL alone takes about 1.5 s on a busy machine.
ENTRY_TIME_LIMITS = {"received UBL (store + incoming_process)": 5.0}
MARKER = "HOSTILE-MARKER-5c1f0e9a-never-read"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
ECONNECT_NS = "http://api.everbinding.nl/v3_1/"


# --- tripwires ----------------------------------------------------------------------------------------------------

_FIFO_WATCH = r"""
import os, sys, time
path, marker = sys.argv[1], sys.argv[2]
while True:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only while somebody has the FIFO open for reading
    except OSError:
        time.sleep(0.003)
        continue
    try:
        os.write(fd, marker.encode())
    except OSError:
        pass
    os.close(fd)
    print("OPENED", flush=True)
    time.sleep(0.01)
"""

_HTTP_WATCH = r"""
import socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(50)
print(server.getsockname()[1], flush=True)
while True:
    connection, _ = server.accept()
    print("CONNECTED", flush=True)
    connection.close()
"""


class Tripwires:
    """What libxml2 could reach: a secret file, a FIFO that reports being opened, a TCP port that reports connects.

    The watchers run in subprocesses, so a parser blocked on the FIFO or the socket is released, not hung.
    """

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="hostile-")
        directory = Path(self._directory.name)
        self.secret_file = directory / "secret.txt"
        self.secret_file.write_text(MARKER)
        self.fifo = directory / "secret.fifo"
        os.mkfifo(self.fifo)
        self._fifo_watch = subprocess.Popen(
            [sys.executable, "-c", _FIFO_WATCH, str(self.fifo), MARKER], stdout=subprocess.PIPE, text=True
        )
        self._http_watch = subprocess.Popen([sys.executable, "-c", _HTTP_WATCH], stdout=subprocess.PIPE, text=True)
        port = int(self._http_watch.stdout.readline())
        self.http_url = f"http://127.0.0.1:{port}/secret.dtd"
        self.forbidden_paths = (str(directory),)

    def hits(self, *, wait: float = 0.03) -> list[str]:
        """What the watchers saw since the last call (after ``wait``, the time a pending open/connect needs)."""
        time.sleep(wait)
        seen = []
        for process, what in ((self._fifo_watch, "file opened by the parser"), (self._http_watch, "network connect")):
            while select.select([process.stdout], [], [], 0)[0]:
                line = process.stdout.readline()
                if not line:
                    break
                seen.append(what)
        return seen

    def close(self) -> None:
        for process in (self._fifo_watch, self._http_watch):
            process.kill()
            process.wait()
            process.stdout.close()
        self._directory.cleanup()


class AccessGuard:
    """A Python audit hook, active only inside ``watch()``: records file access outside the allowed roots, any write,
    socket connects, DNS lookups and processes started. It never raises (that would let a parser hide it)."""

    _installed = False
    _active: list[str] | None = None

    def __init__(self, *, forbidden: tuple[str, ...] = ()) -> None:
        roots = {str(REPO), sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr/share/zoneinfo", "/etc/localtime"}
        roots.update(path for path in sysconfig.get_paths().values() if path)
        self.allowed = tuple(sorted(root.rstrip("/") + "/" for root in roots if root))
        self.forbidden = forbidden
        if not AccessGuard._installed:
            sys.addaudithook(AccessGuard._hook)
            AccessGuard._installed = True

    @classmethod
    def _hook(cls, event: str, args: tuple) -> None:
        seen = cls._active
        if seen is None:
            return
        guard = cls._current
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if isinstance(path, int) or path is None:
                return
            path = os.fsdecode(path)
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            absolute = os.path.abspath(path)
            if any(absolute.startswith(f) for f in guard.forbidden):
                seen.append(f"file access: {absolute}")
            elif writing:
                seen.append(f"file written: {absolute}")
            elif not any((absolute + "/").startswith(root) or absolute.startswith(root) for root in guard.allowed):
                seen.append(f"file access: {absolute}")
        elif event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
            seen.append(f"network: {event} {args[1] if len(args) > 1 else args[0]!r}"[:200])
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork"):
            seen.append(f"process started: {event}")

    _current: AccessGuard

    @contextlib.contextmanager
    def watch(self) -> Iterator[list[str]]:
        seen: list[str] = []
        AccessGuard._current = self
        AccessGuard._active = seen
        try:
            yield seen
        finally:
            AccessGuard._active = None


# --- the corpus ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    kind: str  # the input class, a column of the table
    data: bytes
    tripwired: bool = False  # points at the tripwires: check them after the case


def valid_invoice() -> bytes:
    """A complete invoice from the project's builder (with a PDF attachment), the seed of mutations."""
    from integrations.peppol.builder import build_ubl
    from tests.integrations.peppol import builders

    return build_ubl(builders.invoice(attachments=(builders.pdf_attachment(),)))


def _invoice(body: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return (
        f'{prolog}<Invoice xmlns="{INVOICE_NS}" xmlns:cac="{CAC}" xmlns:cbc="{CBC}">'
        f"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID><cbc:ID>HOSTILE-1</cbc:ID>{body}</Invoice>"
    ).encode()


def _amounts(value: str) -> str:
    return (
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{value}</cbc:TaxAmount><cac:TaxSubtotal>'
        f'<cbc:TaxableAmount currencyID="EUR">{value}</cbc:TaxableAmount><cac:TaxCategory><cbc:ID>S</cbc:ID>'
        f"<cbc:Percent>{value}</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>"
        f'<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">{value}</cbc:PayableAmount>'
        f"</cac:LegalMonetaryTotal>"
    )


def xml_samples(tripwires: Tripwires, *, max_bytes: int, seed: int = 10) -> list[Sample]:
    """Hostile and malformed documents, built at run time. ``max_bytes`` is the size limit to exceed."""
    rng = random.Random(seed)
    valid = valid_invoice()
    secret = tripwires.secret_file.as_uri()
    fifo = tripwires.fifo.as_uri()
    http = tripwires.http_url
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    quadratic = "A" * 50_000
    deep = 100_000
    samples = [
        Sample(
            "xxe file://", _invoice("<cbc:Note>&e;</cbc:Note>", f'<!DOCTYPE Invoice [<!ENTITY e SYSTEM "{secret}">]>')
        ),
        Sample(
            "xxe file://",
            _invoice("<cbc:Note>&e;</cbc:Note>", f'<!DOCTYPE Invoice [<!ENTITY e SYSTEM "{fifo}">]>'),
            True,
        ),
        Sample(
            "xxe http://",
            _invoice("<cbc:Note>&e;</cbc:Note>", f'<!DOCTYPE Invoice [<!ENTITY e SYSTEM "{http}">]>'),
            True,
        ),
        Sample(
            "xxe http://",
            _invoice("", f'<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "{http}"> %p;]>'),
            True,
        ),
        Sample("external DTD", _invoice("", f'<!DOCTYPE Invoice SYSTEM "{fifo}">'), True),
        Sample("external DTD", _invoice("", f'<!DOCTYPE Invoice PUBLIC "-//X//Y" "{http}">'), True),
        Sample("entity expansion", _invoice("<cbc:Note>&lol9;</cbc:Note>", f"<!DOCTYPE Invoice [{laughs}]>")),
        Sample(
            "entity expansion",
            _invoice("<cbc:Note>" + "&a;" * 50_000 + "</cbc:Note>", f'<!DOCTYPE Invoice [<!ENTITY a "{quadratic}">]>'),
        ),
        Sample(
            "XInclude",
            _invoice(
                f'<cbc:Note><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{fifo}" parse="text"/></cbc:Note>'
                f'<cbc:Note><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{http}"/></cbc:Note>'
            ),
            True,
        ),
        Sample(
            "XInclude",
            _invoice(
                f'<cbc:Note><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{secret}" parse="text"/>'
                "</cbc:Note>"
            ),
        ),
        Sample("huge", _invoice("<!--" + "x" * (max_bytes + 1) + "-->")),
        Sample("huge", valid.replace(b"</cbc:Note>", b"x" * (max_bytes // 2) + b"</cbc:Note>", 1)),  # within limit
        Sample("deep nesting", b"<a>" * deep + b"</a>" * deep),
        Sample(
            "deep nesting",
            _invoice("<cbc:Note>" + "<x>" * deep + "</x>" * deep + "</cbc:Note>"),
        ),
        Sample("deep nesting", _invoice("<cac:Party>" * 300 + "</cac:Party>" * 300)),  # legal depth, odd shape
        Sample("wide", _invoice("<cbc:Note>n</cbc:Note>" * 100_000)),
        Sample("wide", _invoice("<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>" * 20_000)),
        Sample("long names", _invoice("", "").replace(b"<Invoice ", b"<" + b"I" * 1_000_000 + b" ", 1)),
        Sample("long names", _invoice(f'<cbc:Note {"a" * 500_000}="1">x</cbc:Note>')),
        Sample("wrong encoding", valid.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)),
        Sample("wrong encoding", _invoice("<cbc:Note>X</cbc:Note>").replace(b">X<", b">caf\xe9 \xff\xfe\xc3\x28<")),
        Sample("wrong encoding", _invoice("<cbc:Note>X</cbc:Note>").replace(b">X<", b">\xed\xb3\xbf<")),  # a surrogate
        Sample("wrong encoding", codecs.BOM_UTF16_LE + valid),
        Sample("wrong encoding", codecs.BOM_UTF8 + valid.decode().replace("UTF-8", "UTF-16").encode("utf-16-le")),
        Sample("wrong encoding", codecs.BOM_UTF32_BE + valid),
        Sample("wrong encoding", valid.replace(b'encoding="UTF-8"', b'encoding="x-klingon"', 1)),
        Sample("wrong encoding", valid.replace(b'encoding="UTF-8"', b'encoding="EBCDIC-US"', 1)),
        Sample("wrong encoding", valid.decode().encode("utf-16-be")),  # UTF-16 without a byte order mark
        Sample("wrong encoding", _invoice("<cbc:Note>NUL\x00byte</cbc:Note>")),
        Sample("truncated", valid[: len(valid) // 2]),
        Sample("truncated", valid[:-1]),
        Sample("truncated", valid[: valid.index(b"<Invoice") + 20]),
        Sample("binary", bytes(rng.getrandbits(8) for _ in range(20_000))),
        Sample("binary", b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(5_000))),
        Sample("binary", b"\x00" * 10_000),
        Sample("empty", b""),
        Sample("empty", b"   \n\t  "),
        Sample("empty", codecs.BOM_UTF8),
        Sample("not UBL", b'<?xml version="1.0"?><html><body>Not an invoice</body></html>'),
        Sample("not UBL", b'{"invoice": 1}'),
        Sample(
            "not UBL",
            b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"/>',
        ),
        Sample("oversize numbers", _invoice(_amounts("1e400"))),
        Sample("oversize numbers", _invoice(_amounts("9" * 500))),
        Sample("oversize numbers", _invoice(_amounts("1" + "0" * 1000))),
        Sample("oversize numbers", _invoice(_amounts("0." + "0" * 100_000 + "1"))),
        Sample("oversize numbers", _invoice(_amounts("NaN") + "<cbc:IssueDate>99999-12-31</cbc:IssueDate>")),
        Sample("oversize numbers", _invoice(_amounts("-Infinity") + "<cbc:IssueDate>0000-00-00</cbc:IssueDate>")),
        Sample(
            "oversize numbers",
            _invoice(
                "<cac:AdditionalDocumentReference><cbc:ID>1</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject "
                'mimeCode="application/pdf" filename="a.pdf">'
                + "QUFB"
                * 1_000_000
                + "</cbc:EmbeddedDocumentBinaryObject>"
                "</cac:Attachment></cac:AdditionalDocumentReference>"
            ),
        ),
        Sample("valid", valid),
    ]
    return samples


def soap_samples(tripwires: Tripwires, *, max_bytes: int, wrap: Callable[[bytes], bytes] | None = None) -> list[Sample]:
    """eConnect answers: every XML sample as the whole answer, the embeddable ones inside a valid answer (``wrap``,
    by default a GetInboxDocument Payload), and SOAP oddities."""
    wrap = wrap or _inbox_answer
    samples = [Sample(f"{s.kind}", s.data, s.tripwired) for s in xml_samples(tripwires, max_bytes=max_bytes)]
    for sample in xml_samples(tripwires, max_bytes=max_bytes):
        body = sample.data
        if b"<!DOCTYPE" in body[:2000] or not body.strip():
            continue
        if body.startswith(b"<?xml"):
            body = body[body.index(b"?>") + 2 :]
        samples.append(Sample(f"{sample.kind} (inside an answer)", wrap(body), sample.tripwired))
    fault = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>'
        "<faultstring>{}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    samples += [
        Sample("SOAP fault", fault.format("x" * 5_000_000 + " [ERR]").encode()),
        Sample("SOAP fault", fault.format("[" * 100_000).encode()),
        Sample(
            "SOAP fault",
            fault.replace(
                "<faultstring>{}</faultstring>", "<faultstring><a>" * 3000 + "</a></faultstring>" * 3000
            ).encode(),
        ),
        Sample("SOAP shape", f'<soap:Envelope xmlns:soap="{SOAP_ENV}"/>'.encode()),
        Sample("SOAP shape", f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body/></soap:Envelope>'.encode()),
        Sample("SOAP shape", _inbox_answer(b"<a/><b/>")),
        Sample("SOAP shape", _inbox_answer(b"", external_id="")),
        Sample("SOAP shape", _inbox_answer(b"<x/>", external_id="\x01" * 10 + "A" * 100_000)),
        Sample("SOAP shape", _inbox_answer(b"<x/>", created="99999-99-99T99:99:99")),
        Sample("SOAP shape", _inbox_answer(b"<![CDATA[" + b"<Payload " * 200_000 + b"]]><x/>")),
    ]
    return samples


def _inbox_answer(payload: bytes, *, external_id: str = "DOC-1", created: str = "2026-01-01T00:00:00Z") -> bytes:
    head = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
        f'<GetInboxDocumentResponse xmlns="{ECONNECT_NS}"><Details><ExternalId>{external_id}</ExternalId>'
        f"<CreatedOn>{created}</CreatedOn><Status><Code>NEW</Code><Name>New</Name></Status><Payload>"
    ).encode()
    tail = b"</Payload></Details></GetInboxDocumentResponse></soap:Body></soap:Envelope>"
    return head + payload + tail


def _listing_answer(content: bytes) -> bytes:
    """A GetInboxDocuments answer with ``content`` inside a listed document's Subject."""
    return (
        (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
            f'<GetInboxDocumentsResponse xmlns="{ECONNECT_NS}"><Results><Document><ExternalId>DOC-1</ExternalId>'
            f"<Subject>"
        ).encode()
        + content
        + (
            b"</Subject><Status><Code>NEW</Code></Status></Document></Results><PagingResponse><NextPage>"
            + b"9" * 10_000
            + b"</NextPage></PagingResponse></GetInboxDocumentsResponse></soap:Body></soap:Envelope>"
        )
    )


def json_samples() -> list[Sample]:
    """Generic hostile JSON bodies: wrong types, depth, huge numbers, non-JSON, encodings."""
    return [
        Sample("empty", b""),
        Sample("empty", b"   "),
        Sample("null", b"null"),
        Sample("wrong type", b"[]"),
        Sample("wrong type", b'[{"rows": []}]'),
        Sample("wrong type", b'"rows"'),
        Sample("wrong type", b"42"),
        Sample("wrong type", b"true"),
        Sample("wrong type", b'{"rows": null, "version": null, "filedata": null, "info": null}'),
        Sample("wrong type", b'{"rows": {"a": 1}, "version": [], "filedata": 7, "info": "x", "getConnectors": 5}'),
        Sample("wrong type", b'{"rows": [1, "x", null, []]}'),
        Sample("deep nesting", b"[" * 10_000 + b"]" * 10_000),
        Sample("deep nesting", b'{"rows": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}"),
        Sample("deep nesting", b'{"rows": [{"DebtorId": ' + b"[" * 900 + b"]" * 900 + b"}]}"),
        Sample("huge numbers", b"1" * 5_000),
        Sample("huge numbers", b'{"rows": [], "skip": ' + b"9" * 5_000 + b"}"),
        Sample("huge numbers", b'{"rows": [], "skip": 1e400, "take": -1e400, "retry_after": 1e400}'),
        Sample("huge numbers", b'{"rows": [{"DebtorId": 1e400, "SbId": 1e400, "ModifiedDate": 1e999}]}'),
        Sample("huge numbers", b'{"rows": [{"DebtorId": ' + b"9" * 4000 + b', "SbId": ' + b"9" * 4000 + b"}]}"),
        Sample("NaN", b"NaN"),
        Sample("NaN", b'{"rows": [], "skip": NaN, "take": Infinity, "retry_after": NaN}'),
        Sample("NaN", b'{"rows": [{"DebtorId": NaN, "SbId": -Infinity, "Blocked": NaN}]}'),
        Sample("odd values", b'{"rows": [{"ModifiedDate": "2024-01-01T00:00:00"}, {"ModifiedDate": 5}]}'),
        Sample("odd values", b'{"rows": [{"ModifiedDate": {"a": 1}}, {"ModifiedDate": [1]}]}'),
        Sample("odd values", b'{"rows": [{"ModifiedDate": "99999-99-99", "DaSe": "\\u0000", "DebtorId": "\\ud800"}]}'),
        Sample("odd values", b'{"rows": [{"DebtorId": "' + b"x" * 5_000_000 + b'"}]}'),
        Sample("odd values", b'{"rows": [], "skip": "abc", "take": null}'),
        Sample("odd values", b'{"a": 1, "a": 2, "rows": [], "rows": [{"x": 1}]}'),
        Sample("wrong encoding", b'{"rows": [{"DebtorId": "\xff\xfe\xc3\x28"}]}'),
        Sample("wrong encoding", '{"rows": []}'.encode("utf-16")),
        Sample("wrong encoding", codecs.BOM_UTF8 + b'{"rows": []}'),
        Sample("wrong encoding", '{"rows": []}'.encode("utf-32-be")),
        Sample("truncated", b'{"rows": [{"DebtorId": "1"'),
        Sample("binary", bytes(random.Random(11).getrandbits(8) for _ in range(10_000))),
        Sample("not JSON", b"<html><body>502 Bad Gateway</body></html>"),
        Sample("not JSON", b"\x00" * 1000),
    ]


def webhook_samples() -> list[Sample]:
    """Event-shaped bodies with hostile fields, stamped now (a stale one is refused before it is read)."""
    now = datetime.now(UTC).isoformat()

    def event(**fields) -> bytes:
        return json.dumps({"topic": "InvoiceReceived", "documentId": "d-1", "sentOn": now, **fields}).encode()

    return json_samples() + [
        Sample("path in the id", event(documentId="../../../etc/passwd")),
        Sample("long id", event(documentId="x" * 100_000)),
        Sample("NUL in the id", event(documentId="a\u0000b")),
        Sample("long topic", event(topic="T" * 1_000_000)),
        Sample("odd time", event(sentOn="not a date")),
        Sample("odd time", event(sentOn="9999-12-31T23:59:59Z")),
        Sample("odd time", event(sentOn=12345)),
        Sample("wrong type", event(documentId=["a"], details="x", topic=None)),
        Sample(
            "deep nesting",
            b'{"topic": "InvoiceSent", "sentOn": "'
            + now.encode()
            + b'", "details": '
            + b'{"a":' * 50_000
            + b"1"
            + b"}" * 50_000
            + b"}",
        ),  # fmt: skip
        Sample("too large", event(details={"x": "y" * 300_000})),
    ]


def _afas_shaped_samples() -> list[Sample]:
    """Well-formed JSON with hostile values in the places the AFAS client reads."""
    return [
        Sample("odd values", b'{"filedata": "not base64!", "filename": [], "mimetype": {}}'),
        Sample("odd values", b'{"filedata": "' + b"QUFB" * 1_000_000 + b'", "filename": null}'),
        Sample("odd values", b'{"info": [], "getConnectors": {"id": 1}, "updateConnectors": [1, null, {"id": []}]}'),
        Sample("odd values", b'{"info": {"envid": 1e400}, "getConnectors": [{"id": NaN}], "version": {"a": 1}}'),
        Sample("odd values", b'{"results": [], "FiElectronicInvoicePurchase": "x"}'),
        Sample("odd values", b'{"results": {"FiElectronicInvoicePurchase": [1, 2]}}'),
        Sample("error body", b'{"externalMessage": {"a": [1]}, "errorNumber": 1e400, "profitLogReference": []}'),
        Sample("error body", b'{"externalMessage": "' + b"locked " * 500_000 + b'"}'),
        Sample("error body", b'{"error": {"message": ' + b"[" * 5_000 + b"]" * 5_000 + b'}, "retry_after": -5}'),
        Sample("error body", b'{"error": "x", "retry_after": NaN}'),
        Sample("error body", b'{"error": [], "retry_after": ' + b"9" * 400 + b"}"),
    ]


def query_samples() -> list[tuple[str, str]]:
    """(input class, already percent-encoded query value) for the list filters of the web UI."""
    return [
        ("overlong", quote("x" * 100_000)),
        ("NUL bytes", "%00"),
        ("NUL bytes", "abc%00def"),
        ("non-UTF-8", "%ff%fe%fd"),
        ("non-UTF-8", "%c3%28%a0%a1"),
        ("non-UTF-8", "%ed%a0%80"),  # an encoded surrogate
        ("SQL-ish", quote("' OR 1=1 --")),
        ("SQL-ish", quote('"; DROP TABLE incoming_invoices_incominginvoice; --')),
        ("SQL-ish", quote("%_\\%")),
        ("invalid cursor", quote("2026-01-01T00:00:00+00:00_99999999999999999999999999")),
        ("invalid cursor", quote("9999-12-31T23:59:59.999999-23:59_1")),
        ("invalid cursor", quote("0001-01-01T00:00:00+14:00_1")),
        ("invalid cursor", "999999999999999999-999999999999999999"),
        ("invalid cursor", quote("_-_")),
        ("huge numbers", "9" * 400),
        ("huge numbers", "-1"),
        ("huge numbers", "1e400"),
        ("huge numbers", "NaN"),
        ("odd text", quote("\u202e\U0001f4a9<script>alert(1)</script>\r\n")),
        ("odd text", quote("9999-99-99")),
    ]


# --- entry points ---------------------------------------------------------------------------------------------------


class ContractBroken(Exception):
    """The entry point answered, but not as promised (no message, not kept as evidence, ...)."""


def _checked_sleep(seconds: float) -> None:
    """Stands in for ``time.sleep`` in the clients' retries: no waiting, but refuses what time.sleep refuses."""
    if not isinstance(seconds, int | float) or seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise ValueError(f"sleep length must be a non-negative number, not {seconds!r}")


def _settings_max_bytes() -> int:
    from django.conf import settings

    return settings.PEPPOL_MAX_DOCUMENT_BYTES


def _refusal(exc) -> tuple[str, list[str]]:
    message = exc.message
    if not (message.en and message.en.strip() and message.nl and message.nl.strip()):
        raise ContractBroken(f"refusal {exc.kind!r} without a message in both languages")
    return f"refused ({exc.kind})", [message.en, message.nl]


def run_ubl_parser(data: bytes) -> tuple[str, list[str]]:
    from integrations.peppol.parser import XmlRejected, parse_document

    try:
        summary = parse_document(data, max_bytes=_settings_max_bytes())
    except XmlRejected as exc:
        return _refusal(exc)
    dumped = json.dumps(summary.as_json())
    return ("read with warnings" if summary.warnings else "read"), [dumped]


def run_readable(data: bytes) -> tuple[str, list[str]]:
    from integrations.peppol.readable import XmlRejected, read_document

    try:
        document = read_document(data, max_bytes=_settings_max_bytes())
    except XmlRejected as exc:
        return _refusal(exc)
    return ("read with warnings" if document.warnings else "read"), [repr(document)]


def run_pretty_xml(data: bytes) -> tuple[str, list[str]]:
    from integrations.peppol.pretty import MAX_PRETTY_CHARS, pretty_xml

    shown = pretty_xml(data, max_bytes=_settings_max_bytes())
    if not isinstance(shown, str) or len(shown) > MAX_PRETTY_CHARS + 1_000:
        raise ContractBroken(f"pretty_xml gave {type(shown).__name__} of {len(shown):,} characters")
    return "shown (bounded)", [shown]


class IncomingRunner:
    """A received document: stored byte for byte as the fetch stores it, then processed (tasks are recorded, not run)."""

    def __init__(self) -> None:
        from portal.organisations.models import Environment, Firm, Organisation

        firm = Firm.objects.create(name=f"Hostile {uuid.uuid4().hex[:8]}")
        organisation = Organisation.objects.create(firm=firm, name="Hostile input B.V.", kvk_number="99999999")
        self.environment = Environment.objects.create(
            organisation=organisation,
            afas_participant_number=str(random.randint(90000, 99999)),
            afas_environment_type=Environment.Type.PRODUCTION,
            afas_edition=Environment.Edition.PROFIT,
        )

    def __call__(self, data: bytes) -> tuple[str, list[str]]:
        from unittest import mock

        from integrations.peppol.parser import XmlRejected, parse_document
        from portal.documents import lifecycle
        from portal.events.models import Event
        from portal.incoming_invoices import fetching, services
        from portal.incoming_invoices.models import IncomingInvoice

        external_id = f"HOSTILE-{uuid.uuid4().hex}"
        with mock.patch.object(lifecycle, "enqueue", lambda *args, **kwargs: None):
            fetching._store(self.environment, external_id, False, fetching._Download(data))
            invoice = IncomingInvoice.objects.get(environment=self.environment, econnect_document_id=external_id)
            services.incoming_process(invoice=invoice)
        invoice.refresh_from_db()
        if bytes(invoice.raw_xml) != data or invoice.sha256 != hashlib.sha256(data).hexdigest():
            raise ContractBroken("the document was not kept byte for byte with its SHA-256")
        try:
            parse_document(data, max_bytes=_settings_max_bytes())
            refused = False
        except XmlRejected:
            refused = True
        held = {IncomingInvoice.HoldReason.HOSTILE, IncomingInvoice.HoldReason.UNPARSEABLE}
        if refused:
            if invoice.status != IncomingInvoice.Status.HELD or invoice.hold_reason not in held:
                raise ContractBroken(f"a refused document ended {invoice.status}/{invoice.hold_reason}, not held")
            if not invoice.parse_error.strip():
                raise ContractBroken("held without saying why")
            if not Event.objects.filter(incoming_invoice=invoice, to_status=IncomingInvoice.Status.HELD).exists():
                raise ContractBroken("held without an event on the timeline")
            return f"held as evidence ({invoice.hold_reason})", [invoice.parse_error]
        texts = [invoice.parse_error, invoice.supplier_name, invoice.invoice_number, json.dumps(invoice.vat_breakdown)]
        return f"stored, {invoice.status}", texts


def _remote_outcome(call: Callable[[], Any]) -> tuple[str, list[str]]:
    from integrations.http import RemoteError

    try:
        result = call()
    except RemoteError as exc:
        if not str(exc.message).strip():
            raise ContractBroken(f"{type(exc).__name__} without a message") from exc
        return f"{type(exc).__name__}", [exc.message]
    return "accepted", [repr(result)[:100_000]]


def _econnect_gateway(answer: Callable[[Any], Any]):
    import httpx

    from integrations.econnect.soap import PlatformSoapGateway

    login = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><LoginResponse xmlns="{ECONNECT_NS}">'
        "<SecurityToken>token</SecurityToken></LoginResponse></soap:Body></soap:Envelope>"
    ).encode()

    def handler(request):
        if b"Login" in request.headers.get("SOAPAction", "").encode():
            return httpx.Response(200, content=login, headers={"Content-Type": "text/xml; charset=utf-8"})
        return answer(request)

    return PlatformSoapGateway(
        app_key="hostile-key",
        app_secret="hostile-secret",
        soap_url="http://econnect.invalid/soap/v3.1",
        lookup_url="http://econnect.invalid",
        transport=httpx.MockTransport(handler),
    )


def run_econnect_inbox(data: bytes) -> tuple[str, list[str]]:
    """GetInboxDocument answered with ``data`` (HTTP 200, text/xml), then the same as a 500 fault answer."""
    import httpx

    outcomes, texts = [], []
    for status in (200, 500):
        gateway = _econnect_gateway(
            lambda request, status=status: httpx.Response(
                status, content=data, headers={"Content-Type": "text/xml; charset=utf-8"}
            )
        )
        with gateway:
            outcome, seen = _remote_outcome(lambda gateway=gateway: gateway.get_inbox_document("DOC-1"))
        outcomes.append(outcome)
        texts += seen
    return " / ".join(dict.fromkeys(outcomes)), texts


def run_econnect_listing(data: bytes) -> tuple[str, list[str]]:
    import httpx

    gateway = _econnect_gateway(
        lambda request: httpx.Response(200, content=data, headers={"Content-Type": "text/xml; charset=utf-8"})
    )
    with gateway:
        return _remote_outcome(lambda: gateway.list_inbox_documents())


def _psb_client(answer: Callable[[Any], Any]):
    import httpx

    from integrations.econnect.psb.auth import PsbCredentials, forget_tokens
    from integrations.econnect.psb.client import PsbClient

    def handler(request):
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": "http://identity.invalid/connect/token"})
        if request.url.path.endswith("/connect/token"):
            return httpx.Response(200, json={"access_token": "token", "expires_in": 3600})
        return answer(request)

    forget_tokens()
    return PsbClient(
        base_url="http://psb.invalid",
        identity_url="http://identity.invalid",
        credentials=PsbCredentials("hostile-client", "hostile-secret"),
        party_id="0106:99999999",
        transport=httpx.MockTransport(handler),
    )


def run_psb_download(data: bytes) -> tuple[str, list[str]]:
    """A PSB download answered with ``data``: returned as the document (byte for byte) or refused as an error page."""
    import httpx

    client = _psb_client(lambda request: httpx.Response(200, content=data, headers={"Content-Type": "application/xml"}))
    with client:
        outcome, texts = _remote_outcome(lambda: client.download_purchase_invoice("DOC-1"))
    if outcome == "accepted" and texts != [repr(data)[:100_000]]:
        raise ContractBroken("the download was not returned byte for byte")
    return outcome, texts


def run_psb_json_answer(data: bytes) -> tuple[str, list[str]]:
    """PSB answers ``data`` where JSON is expected: the send, the status history and the recipient query."""
    import httpx

    client = _psb_client(
        lambda request: httpx.Response(200, content=data, headers={"Content-Type": "application/json"})
    )
    outcomes, texts = [], []
    with client:
        for call in (
            lambda: client.send_sales_invoice(b"<Invoice/>", document_id="hostile-0001"),
            lambda: client.sales_invoice_status("hostile-0001"),
            lambda: client.query_recipient_party(["0106:12345678"]),
        ):
            outcome, seen = _remote_outcome(call)
            outcomes.append(outcome)
            texts += seen
    return " / ".join(dict.fromkeys(outcomes)), texts


def afas_webhook_samples() -> list[Sample]:
    """Profit dossier events with hostile fields (the shape of ``integrations.afas.webhooks``)."""

    def event(**fields) -> bytes:
        body = {"EventId": "e-1", "EnvironmentId": "12345AA", "EventType": "subject.created",
                "Data": {"SubjectTypeId": 3, "SubjectId": 41}, "Timestamp": "2026-12-07T09:00:00.0000000Z"}  # fmt: skip
        return json.dumps({**body, **fields}).encode()

    return json_samples() + [
        Sample("path in the id", event(EventId="../../../etc/passwd")),
        Sample("long id", event(EventId="x" * 100_000)),
        Sample("NUL in the id", event(EventId="a\u0000b")),
        Sample("long topic", event(EventType="T" * 1_000_000)),
        Sample("wrong type", event(EventId=["a"], Data="x", EventType=None)),
        Sample("wrong type", event(Data={"SubjectId": "41; DROP TABLE", "SubjectTypeId": 2**80})),
        Sample("odd number", event(Data={"SubjectId": 1e308, "SubjectTypeId": True})),
        Sample("test message", event(EventType="test.executed", Data={"SubscriptionName": "\u202e" * 50})),
        Sample(
            "deep nesting",
            b'{"EventId": "e-2", "EventType": "subject.created", "Data": '
            + b'{"a":' * 50_000
            + b"1"
            + b"}" * 50_000
            + b"}",
        ),  # fmt: skip
    ]


class AfasWebhookRunner:
    """A delivery to the portal's AFAS Profit webhook endpoint: signed with the environment's webhook password (so
    it reaches the reading), and unsigned. Never a server error; anything stored is processed without crashing."""

    def __init__(self) -> None:
        from django.test import Client

        from portal.organisations.models import Environment
        from portal.webhooks.afas import environment_set_up_afas_webhooks
        from tests.portal.organisations.factories import EnvironmentFactory

        self.environment = EnvironmentFactory(afas_edition=Environment.Edition.PROFIT)
        self.password = environment_set_up_afas_webhooks(environment=self.environment, actor=None)
        self.environment.refresh_from_db()
        self.client = Client()

    def __call__(self, data: bytes) -> tuple[str, list[str]]:
        from unittest import mock

        from integrations.afas.webhooks import SIGNATURE_HEADER, signature
        from portal.documents import lifecycle
        from portal.webhooks.models import WebhookEvent
        from portal.webhooks.services import webhook_process

        path = f"/hooks/afas/{self.environment.afas_hook_token}/"
        header = "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")
        statuses = []
        with mock.patch.object(lifecycle, "enqueue", lambda *args, **kwargs: None):
            for presented in (signature(data, self.password), ""):
                response = self.client.post(path, data=data, content_type="application/json", **{header: presented})
                statuses.append(response.status_code)
            for event in WebhookEvent.objects.filter(environment=self.environment, outcome="pending"):
                webhook_process(event=event)
        if not all(status in (200, 400, 401, 413) for status in statuses):
            raise ContractBroken(f"AFAS webhook answered HTTP {statuses}")
        if statuses[1] not in (401, 413):
            raise ContractBroken(f"an unsigned AFAS delivery was answered {statuses[1]}, not 401")
        return "HTTP " + "/".join(str(s) for s in statuses), []


class WebhookRunner:
    """A delivery to the portal's webhook endpoint: the body signed with the environment's secret (so it reaches
    the reading), and unsigned. Never a server error; anything stored is processed without crashing."""

    def __init__(self) -> None:
        from django.test import Client

        from portal.organisations.models import Environment
        from tests.portal.organisations.factories import EnvironmentFactory

        self.environment = EnvironmentFactory(
            econnect_transport=Environment.EConnectTransport.PSB,
            econnect_psb_party_id="0106:99999999",
            econnect_hook_token=f"hostile-{uuid.uuid4().hex}",
            econnect_hook_secret="hostile-hook-secret",
        )
        self.client = Client()

    def __call__(self, data: bytes) -> tuple[str, list[str]]:
        from unittest import mock

        from integrations.econnect.psb.webhooks import signature
        from portal.documents import lifecycle
        from portal.webhooks.models import WebhookEvent
        from portal.webhooks.services import webhook_process

        path = f"/hooks/econnect/{self.environment.econnect_hook_token}/"
        statuses = []
        with mock.patch.object(lifecycle, "enqueue", lambda *args, **kwargs: None):
            for presented in (signature(data, "hostile-hook-secret"), ""):
                response = self.client.post(
                    path, data=data, content_type="application/json", HTTP_X_ECONNECT_SIGNATURE=presented
                )
                statuses.append(response.status_code)
            for event in WebhookEvent.objects.filter(environment=self.environment, outcome="pending"):
                webhook_process(event=event)  # a download it asks for fails: no simulator (a RemoteError, kept)
        if not all(status in (200, 400, 401, 413) for status in statuses):
            raise ContractBroken(f"webhook answered HTTP {statuses}")
        if statuses[1] not in (401, 413):  # a body over the limit is refused before its signature is checked
            raise ContractBroken(f"an unsigned delivery was answered {statuses[1]}, not 401")
        return "HTTP " + "/".join(str(s) for s in statuses), []


def _afas_client(answer: Callable[[Any], Any]):
    import httpx

    from integrations.afas.profit import ProfitClient

    return ProfitClient(
        participant="12345",
        environment_type="production",
        token="<token><version>1</version><data>hostile</data></token>",
        base_url_template="http://afas.invalid/{participant}/{rest_host}/ProfitRestServices",
        transport=httpx.MockTransport(answer),
        sleep=_checked_sleep,
    )


def _afas_answer(data: bytes, *, status: int = 200, method: str | None = None, headers: dict | None = None):
    """The hostile body for every first page (and for every request of ``method``, retries included); later pages
    are empty, so paging ends."""
    import httpx

    def answer(request):
        if method is None or request.method == method:
            if request.url.params.get("skip", "0") == "0" or status != 200:
                return httpx.Response(
                    status, content=data, headers={"Content-Type": "application/json", **(headers or {})}
                )
        if request.method in ("POST", "PUT"):
            return httpx.Response(201, content=b"")
        return httpx.Response(200, json={"skip": 0, "take": 100, "rows": []})

    return answer


def run_afas_get_connector(data: bytes) -> tuple[str, list[str]]:
    outcomes, texts = [], []
    for call in ("debtors", "sales_invoice_items", "creditors_changed"):
        with _afas_client(_afas_answer(data)) as client:
            outcome, seen = _remote_outcome(lambda client=client, call=call: getattr(client, call)())
        outcomes.append(outcome)
        texts += seen
    return " / ".join(dict.fromkeys(outcomes)), texts


def run_afas_connection_test(data: bytes) -> tuple[str, list[str]]:
    with _afas_client(_afas_answer(data)) as client:
        result = client.test_connection()
    if result.ok or not result.message:
        return ("connected" if result.ok else "no message"), [result.message]
    return f"not connected ({result.problem})", [result.message]


def run_afas_attachment(data: bytes) -> tuple[str, list[str]]:
    with _afas_client(_afas_answer(data)) as client:
        return _remote_outcome(lambda: client.download_attachment(1, "file-1"))


def run_afas_update_answer(data: bytes) -> tuple[str, list[str]]:
    with _afas_client(_afas_answer(data, status=201, method="POST")) as client:
        return _remote_outcome(lambda: client.deliver_purchase_invoice(ubl=b"<Invoice/>"))


def run_afas_error_body(data: bytes) -> tuple[str, list[str]]:
    outcomes, texts = [], []
    for status, headers in ((500, {}), (503, {"Retry-After": "-1e400"}), (503, {})):
        with _afas_client(_afas_answer(data, status=status, headers=headers)) as client:
            outcome, seen = _remote_outcome(lambda client=client: client.debtors())
        outcomes.append(outcome)
        texts += seen
    return " / ".join(dict.fromkeys(outcomes)), texts


# --- the simulators' control API -------------------------------------------------------------------------------------


def _call_wsgi(app, method: str, path: str, body: bytes) -> int:
    """One request straight into a WSGI app: an exception is what a server would turn into a 500."""
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "sim",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    chunks = app(environ, lambda line, headers, exc_info=None: status.append(line))
    b"".join(chunks)
    return int(status[0].split()[0])


AFAS_CONTROL = (
    ("POST", "/_sim/faults"),
    ("POST", "/_sim/fixtures"),
    ("POST", "/_sim/environments/{afas}/settings"),
    ("POST", "/_sim/environments/{afas}/rows/Peppol_Debtors"),
    ("POST", "/_sim/environments/{afas}/debtors/10001"),
    ("POST", "/_sim/environments/{afas}/sales-invoices"),
)
ECONNECT_CONTROL = (
    ("POST", "/_sim/faults"),
    ("POST", "/_sim/clock"),
    ("POST", "/_sim/config"),
    ("POST", "/_sim/accounts"),
    ("PUT", "/_sim/directory/production/0106:12345678"),
    ("POST", "/_sim/inbox"),
    ("POST", "/_sim/soap-faults"),
)


class SimulatorControlRunner:
    """Posts a body to every ``/_sim`` endpoint of both simulators (seeded with the demo world)."""

    def __init__(self) -> None:
        from integrations.afas import simulator as afas_simulator
        from integrations.econnect import simulator as econnect_simulator

        self.afas = afas_simulator.create_app()
        afas_simulator.seed_demo(self.afas)
        self.econnect = econnect_simulator.create_app()
        econnect_simulator.seed_demo(self.econnect)
        self.afas_key = next(iter(self.afas.environments))
        self.failures: list[str] = []

    def __call__(self, data: bytes) -> tuple[str, list[str]]:
        statuses, broken = [], []
        for app, routes in ((self.afas, AFAS_CONTROL), (self.econnect, ECONNECT_CONTROL)):
            for method, path in routes:
                path = path.format(afas=self.afas_key)
                try:
                    status = _call_wsgi(app, method, path, data)
                except Exception as exc:  # noqa: BLE001 - the finding itself
                    broken.append(f"{app.name} {method} {path}: {type(exc).__name__}: {str(exc)[:80]}")
                    continue
                statuses.append(status)
                if status >= 500:
                    broken.append(f"{app.name} {method} {path}: HTTP {status}")
        with contextlib.suppress(Exception):  # leave no injected faults or broken state behind for the next case
            _call_wsgi(self.afas, "POST", "/_sim/reset", b"")
            _call_wsgi(self.econnect, "POST", "/_sim/reset", b"")
            from integrations.afas import simulator as afas_simulator
            from integrations.econnect import simulator as econnect_simulator

            afas_simulator.seed_demo(self.afas)
            econnect_simulator.seed_demo(self.econnect)
        if broken:
            raise ContractBroken("; ".join(broken))
        return "HTTP " + "/".join(str(s) for s in sorted(set(statuses))), []


# --- the web UI's filters ----------------------------------------------------------------------------------------------

WEB_PAGES = {
    "/outbox/": ("organisation", "environment", "status", "test", "from", "to", "q", "after", "before"),
    "/inbox/": (
        "environment",
        "status",
        "hold_reason",
        "held_duplicates",
        "received_from",
        "received_until",
        "q",
        "older",
        "newer",
    ),
    "/environments/{pk}/contacts/": ("outcome", "route", "q", "inactive", "page"),
}


class WebRunner:
    """A logged-in accountant of a firm with an environment, sent and received invoices and contacts."""

    def __init__(self) -> None:
        from django.test import Client

        from tests.portal.accounts.factories import MembershipFactory
        from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
        from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
        from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

        membership = MembershipFactory()
        environment = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
        OutgoingInvoiceFactory.create_batch(3, environment=environment)
        IncomingInvoiceFactory.create_batch(3, environment=environment)
        self.environment_pk = environment.pk
        self.client = Client()
        self.client.force_login(membership.user)

    def pages(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(page.format(pk=self.environment_pk), params) for page, params in WEB_PAGES.items()]

    def get(self, page: str, params: tuple[str, ...], value: str) -> tuple[str, list[str]]:
        statuses = []
        queries = [f"{name}={value}" for name in params] + ["&".join(f"{name}={value}" for name in params)]
        for query in queries:
            response = self.client.get(f"{page}?{query}")
            statuses.append(response.status_code)
        # 404: an environment id that is not the firm's (or does not exist) is not found, as for a link to one.
        if not all(status in (200, 400, 404) for status in statuses):
            raise ContractBroken(f"{page}: HTTP {sorted(set(statuses))}")
        return "HTTP " + "/".join(str(s) for s in sorted(set(statuses))), []


# --- running cases ------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    entry: str
    kind: str
    outcome: str
    seconds: float
    problems: list[str] = field(default_factory=list)


class Campaign:
    def __init__(self, *, tripwires: Tripwires, guard: AccessGuard, time_limit: float = TIME_LIMIT):
        self.tripwires = tripwires
        self.guard = guard
        self.time_limit = time_limit
        self.results: list[Result] = []

    def case(self, entry: str, kind: str, run: Callable[[], tuple[str, list[str]]], *, tripwired=False) -> Result:
        problems: list[str] = []
        texts: list[str] = []
        started = time.perf_counter()
        with self.guard.watch() as seen:
            try:
                outcome, texts = run()
            except ContractBroken as exc:
                outcome = "contract broken"
                problems.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - a crash is the finding
                outcome = f"CRASH {type(exc).__name__}"
                problems.append(f"crash: {type(exc).__name__}: {str(exc)[:200]}")
        elapsed = time.perf_counter() - started
        limit = max(self.time_limit, ENTRY_TIME_LIMITS.get(entry, 0.0))
        if elapsed > limit:
            problems.append(f"slow: {elapsed:.2f} s (limit {limit} s)")
        problems += seen
        if tripwired:
            problems += self.tripwires.hits()
        if any(MARKER in text for text in texts):
            problems.append("leak: the secret file's content appears in the result")
        result = Result(entry, kind, outcome, elapsed, problems)
        self.results.append(result)
        return result

    def run_samples(self, entry: str, run: Callable[[bytes], tuple[str, list[str]]], samples: list[Sample]) -> None:
        for sample in samples:
            self.case(entry, sample.kind, lambda sample=sample: run(sample.data), tripwired=sample.tripwired)

    def problems(self) -> list[str]:
        return [f"{r.entry} / {r.kind}: {p}" for r in self.results for p in r.problems]


def _web_cases(campaign: Campaign, page_label: str) -> None:
    web = WebRunner()
    for page, params in web.pages():
        label = "web " + (page if "contacts" not in page else "/environments/<pk>/contacts/")
        if label != page_label:
            continue
        for kind, value in query_samples():
            campaign.case(label, kind, lambda page=page, params=params, value=value: web.get(page, params, value))


# (entry point, what runs it, which corpus); the corpus is built only for the entry points asked for.
ENTRY_POINTS: list[tuple[str, Callable[[], Callable[[bytes], tuple[str, list[str]]]], str]] = [
    ("UBL parser (parse_document)", lambda: run_ubl_parser, "xml"),
    ("readable (read_document)", lambda: run_readable, "xml"),
    ("readable (pretty_xml)", lambda: run_pretty_xml, "xml"),
    ("received UBL (store + incoming_process)", IncomingRunner, "xml"),
    ("eConnect SOAP GetInboxDocument", lambda: run_econnect_inbox, "soap"),
    ("eConnect SOAP GetInboxDocuments", lambda: run_econnect_listing, "soap listing"),
    ("eConnect PSB download", lambda: run_psb_download, "xml"),
    ("eConnect PSB JSON answers", lambda: run_psb_json_answer, "json"),
    ("eConnect PSB webhook (portal endpoint)", WebhookRunner, "webhook json"),
    ("AFAS Profit webhook (portal endpoint)", AfasWebhookRunner, "afas webhook json"),
    ("AFAS GetConnector (rows)", lambda: run_afas_get_connector, "afas json"),
    ("AFAS connection test (metainfo)", lambda: run_afas_connection_test, "afas json"),
    ("AFAS SubjectConnector (attachment)", lambda: run_afas_attachment, "afas json"),
    ("AFAS UpdateConnector answer", lambda: run_afas_update_answer, "afas json"),
    ("AFAS error body (500/503)", lambda: run_afas_error_body, "afas json"),
    ("simulator control API (/_sim)", SimulatorControlRunner, "json"),
    ("web /outbox/", None, "query"),
    ("web /inbox/", None, "query"),
    ("web /environments/<pk>/contacts/", None, "query"),
]
NEEDS_DATABASE = {
    "received UBL (store + incoming_process)",
    "eConnect PSB webhook (portal endpoint)",
    "AFAS Profit webhook (portal endpoint)",
    "web /outbox/",
    "web /inbox/",
    "web /environments/<pk>/contacts/",
}


def run_corpus(campaign: Campaign, *, entries: set[str] | None = None) -> None:
    """The entry points (all, or those named) against their corpus. Django must be set up with a database."""
    max_bytes = _settings_max_bytes()
    tripwires = campaign.tripwires
    corpora: dict[str, list[Sample]] = {}
    builders = {
        "xml": lambda: xml_samples(tripwires, max_bytes=max_bytes),
        "soap": lambda: soap_samples(tripwires, max_bytes=max_bytes),
        "soap listing": lambda: soap_samples(tripwires, max_bytes=max_bytes, wrap=_listing_answer),
        "afas json": lambda: json_samples() + _afas_shaped_samples(),
        "json": json_samples,
        "webhook json": webhook_samples,
        "afas webhook json": afas_webhook_samples,
    }
    for label, runner, corpus in ENTRY_POINTS:
        if entries is not None and label not in entries:
            continue
        if corpus == "query":
            _web_cases(campaign, label)
            continue
        if corpus not in corpora:
            corpora[corpus] = builders[corpus]()
        campaign.run_samples(label, runner(), corpora[corpus])


# --- fuzzing ------------------------------------------------------------------------------------------------------------


@dataclass
class FuzzStats:
    target: str
    examples: int = 0
    failures: int = 0
    max_seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    first_failure: str = ""


HOSTILE_TOKENS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&e;",
    b"&#0;",
    b"&#x110000;",
    b"<!DOCTYPE x>",
    b'<!DOCTYPE x [<!ENTITY e "e">]>',
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?pi x?>",
    b"</cbc:ID>",
    b"<cbc:ID>",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    b"1e9999",
    b"9" * 300,
    b"NaN",
    b'xmlns:cbc=""',
    b'encoding="UTF-16"',
]

UBL_NAMES = [
    "cbc:ID",
    "cbc:PayableAmount",
    "cbc:TaxAmount",
    "cbc:TaxableAmount",
    "cac:LegalMonetaryTotal",
    "cac:AccountingSupplierParty",
    "cac:AccountingCustomerParty",
    "cac:Party",
    "cbc:EndpointID",
    "cac:PartyIdentification",
    "cac:PartyLegalEntity",
    "cbc:CompanyID",
    "cac:TaxTotal",
    "cac:TaxSubtotal",
    "cac:TaxCategory",
    "cbc:Percent",
    "cac:PaymentMeans",
    "cac:PayeeFinancialAccount",
    "cbc:IssueDate",
    "cbc:DueDate",
    "cac:InvoiceLine",
    "cbc:InvoicedQuantity",
    "cac:Price",
    "cbc:PriceAmount",
    "cac:AdditionalDocumentReference",
    "cac:Attachment",
    "cbc:EmbeddedDocumentBinaryObject",
    "cbc:Note",
    "cac:BillingReference",
]


def fuzz_strategies() -> dict[str, Any]:
    """The hypothesis strategies (shared by the test suite and the long run)."""
    from hypothesis import strategies as st

    seed = valid_invoice()

    @st.composite
    def mutated_invoice(draw) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(min_value=1, max_value=10))):
            position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
            action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "token"]))
            if action == "flip" and data:
                data[position] = draw(st.integers(min_value=0, max_value=255))
            elif action == "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=20))
            elif action == "token":
                data[position:position] = draw(st.sampled_from(HOSTILE_TOKENS))
            elif action == "delete":
                del data[position : position + draw(st.integers(min_value=1, max_value=300))]
            elif action == "truncate":
                del data[position:]
            elif action == "duplicate":
                end = min(len(data), position + draw(st.integers(min_value=1, max_value=2_000)))
                data[end:end] = data[position:end] * draw(st.integers(min_value=1, max_value=5))
        return bytes(data)

    texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
        ["1e400", "9" * 500, "NaN", "-0", "2024-02-30", "0106:12345678", " ", "", "\u202e", "١٢٣"]
    )

    @st.composite
    def ubl_tree(draw) -> bytes:
        from xml.sax.saxutils import escape, quoteattr

        def element(depth: int) -> str:
            name = draw(st.sampled_from(UBL_NAMES))
            attributes = ""
            if draw(st.booleans()):
                attributes = f" {draw(st.sampled_from(['currencyID', 'schemeID', 'mimeCode', 'filename']))}="
                attributes += quoteattr(draw(texts))
            if depth > 4 or draw(st.integers(0, 2)) == 0:
                return f"<{name}{attributes}>{escape(draw(texts))}</{name}>"
            children = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 4))))
            return f"<{name}{attributes}>{children}</{name}>"

        root = draw(st.sampled_from(["Invoice", "CreditNote"]))
        namespace = INVOICE_NS if root == "Invoice" else "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
        body = "".join(element(0) for _ in range(draw(st.integers(0, 6))))
        encoding = draw(st.sampled_from(["utf-8", "utf-16", "iso-8859-1"]))
        text = (
            f'<?xml version="1.0" encoding="{encoding}"?>'
            f'<{root} xmlns="{namespace}" xmlns:cac="{CAC}" xmlns:cbc="{CBC}">{body}</{root}>'
        )
        return text.encode(encoding, errors="xmlcharrefreplace")

    scheme = st.from_regex(r"\A[0-9]{4}\Z") | st.sampled_from(
        ["NL:KVK", "NL:OINO", "NL:VAT", "GLN", "BE:EN", "BE:VAT", "DE:VAT", "SE:ORGNR", "NO:ORGNR", "DK:CVR", "nl:kvk"]
    )
    value = (
        st.text(max_size=40)
        | st.from_regex(r"\A[0-9A-Za-z .\-]{0,20}\Z")
        | st.sampled_from(["12345678", "00000001", "NL819234567B01", "0403.170.701", "x" * 200, "\x00", "1\u200b2"])
    )
    prefix = st.sampled_from(["", "iso6523-actorid-upis::", "ISO6523-ACTORID-UPIS::", " "])
    separator = st.sampled_from([":", " : ", "::", ""])

    identifier_text = st.text() | st.builds(lambda p, s, sep, v: f"{p}{s}{sep}{v}", prefix, scheme, separator, value)
    return {
        "random bytes": st.binary(max_size=4_000),
        "mutated invoice": mutated_invoice(),
        "UBL-shaped tree": ubl_tree(),
        "identifier text": identifier_text,
    }


def ubl_fuzz_check(data: bytes) -> str:
    """The parser contract on one input: a summary, a readable document and pretty text, or XmlRejected."""
    from integrations.peppol.parser import DocumentSummary, XmlRejected, parse_document
    from integrations.peppol.pretty import pretty_xml
    from integrations.peppol.readable import read_document

    try:
        summary = parse_document(data)
    except XmlRejected as exc:
        assert exc.kind in XmlRejected.KINDS and exc.message.en and exc.message.nl
        outcome = f"refused ({exc.kind})"
    else:
        assert isinstance(summary, DocumentSummary)
        json.dumps(summary.as_json())
        outcome = "read"
    try:
        read_document(data)
    except XmlRejected:
        assert outcome != "read", "read_document refused what parse_document read"
    assert isinstance(pretty_xml(data), str)
    return outcome


def identifier_fuzz_check(text: str) -> str:
    """The identifier parser contract: a canonical identifier that reads back as itself, or IdentifierSyntaxError."""
    from integrations.peppol.identifiers import (
        IdentifierSyntaxError,
        check_identifier,
        identifier_from_kvk,
        identifier_from_vat,
        parse_identifier,
    )

    for constructor in (identifier_from_kvk, identifier_from_vat):
        try:
            check_identifier(constructor(text))
        except IdentifierSyntaxError as exc:
            assert exc.message.en and exc.message.nl
    try:
        identifier = parse_identifier(text)
    except IdentifierSyntaxError as exc:
        assert exc.message.en and exc.message.nl
        return "refused"
    check = check_identifier(identifier)
    assert check.reason.en and check.reason.nl
    assert parse_identifier(identifier.icd) == identifier, f"{identifier.icd!r} does not read back as itself"
    if identifier.econnect is not None:
        assert parse_identifier(identifier.econnect) == identifier, f"{identifier.econnect!r} reads differently"
    return check.status.value


def fuzz(
    target: str,
    check: Callable[[Any], str],
    strategy,
    *,
    seconds: float,
    max_examples: int | None = None,
    guard: AccessGuard | None = None,
) -> FuzzStats:
    """Run ``check`` on examples of ``strategy`` for ``seconds`` (batches of fresh seeds) or ``max_examples``;
    with a ``guard``, an example that touches a file or the network fails."""
    from hypothesis import HealthCheck, given, settings

    stats = FuzzStats(target)
    deadline = time.monotonic() + seconds

    def body(example) -> None:
        started = time.perf_counter()
        with guard.watch() if guard else contextlib.nullcontext([]) as seen:
            outcome = check(example)
        elapsed = time.perf_counter() - started
        assert not seen, seen
        stats.examples += 1
        stats.max_seconds = max(stats.max_seconds, elapsed)
        stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
        assert elapsed <= TIME_LIMIT, f"took {elapsed:.2f} s"

    batch = max_examples or 200
    while True:
        test = settings(
            max_examples=batch,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(body))
        try:
            test()
        except Exception as exc:  # noqa: BLE001 - hypothesis raises the falsifying example's error
            stats.failures += 1
            stats.first_failure = stats.first_failure or f"{type(exc).__name__}: {str(exc)[:300]}"
        if max_examples is not None or time.monotonic() >= deadline:
            return stats


# --- report -----------------------------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    rows: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        rows.setdefault((result.entry, result.kind), []).append(result)
    lines = [f"{'entry point':44} {'input class':32} {'n':>3} {'max s':>6}  outcome"]
    lines.append("-" * 140)
    previous = None
    for (entry, kind), group in rows.items():
        outcomes = " | ".join(dict.fromkeys(r.outcome for r in group))
        problems = sum(len(r.problems) for r in group)
        flag = f"  !! {problems} problem(s)" if problems else ""
        shown_entry = entry if entry != previous else ""
        previous = entry
        lines.append(
            f"{shown_entry[:44]:44} {kind[:32]:32} {len(group):3d} {max(r.seconds for r in group):6.2f}  "
            f"{outcomes[:200]}{flag}"
        )
    return "\n".join(lines)


def setup_django(database_url: str = "") -> Callable[[], None]:
    """Django with the test settings on a throwaway database: PostgreSQL ``rel_hostile_<pid>`` when ``database_url``
    names a PostgreSQL server (as production; e.g. NUL bytes behave differently there), else in-memory SQLite.
    Returns the teardown."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    postgres = database_url.startswith(("postgres://", "postgresql://"))
    os.environ["DATABASE_URL"] = database_url if postgres else "sqlite://:memory:"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if not postgres:
        call_command("migrate", verbosity=0, interactive=False)
        return lambda: None
    original = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"rel_hostile_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(original, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time for the fuzzers (default 60)")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds allowed per case")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server to create the throwaway database on (default: $DATABASE_URL; else SQLite)",
    )
    arguments = parser.parse_args(argv)

    started = time.monotonic()
    teardown = setup_django(arguments.database_url)
    logging.disable(logging.CRITICAL)  # clients and Django log every refusal and 500; the table says it once
    tripwires = Tripwires()
    guard = AccessGuard(forbidden=tripwires.forbidden_paths)
    try:
        campaign = Campaign(tripwires=tripwires, guard=guard, time_limit=arguments.time_limit)
        run_corpus(campaign)
        print(table(campaign.results))
        corpus_seconds = time.monotonic() - started
        strategies = fuzz_strategies()
        share = arguments.seconds / len(strategies)
        stats = []
        for name, strategy in strategies.items():
            check = identifier_fuzz_check if name == "identifier text" else ubl_fuzz_check
            target = f"{'identifier' if check is identifier_fuzz_check else 'UBL'} parser: {name}"
            stats.append(fuzz(target, check, strategy, seconds=share, guard=guard))
        stats_problems = tripwires.hits()
    finally:
        tripwires.close()
        teardown()

    print()
    print(f"{'fuzz target':44} {'examples':>9} {'failures':>9} {'max s':>6}  outcomes")
    print("-" * 120)
    for s in stats:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items(), key=lambda kv: -kv[1])[:5])
        print(f"{s.target:44} {s.examples:9d} {s.failures:9d} {s.max_seconds:6.2f}  {outcomes}")
        if s.first_failure:
            print(f"    first failure: {s.first_failure}")
    problems = campaign.problems() + [f"fuzz: {p}" for p in stats_problems]
    cases = len(campaign.results)
    slowest = max(campaign.results, key=lambda r: r.seconds)
    print()
    print(
        f"{cases} corpus cases over {len({r.entry for r in campaign.results})} entry points in {corpus_seconds:.1f} s; "
        f"slowest {slowest.seconds:.2f} s ({slowest.entry} / {slowest.kind}); "
        f"{sum(s.examples for s in stats)} fuzz examples, {sum(s.failures for s in stats)} failures; "
        f"{len(problems)} problems"
    )
    for problem in problems:
        print(f"  PROBLEM {problem}")
    return 1 if problems or any(s.failures for s in stats) else 0


if __name__ == "__main__":
    sys.exit(main())
