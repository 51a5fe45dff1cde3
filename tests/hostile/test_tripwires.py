"""The campaign's checks can fail: an unsafe parser, a file read, a connection, a slow or crashing case are caught."""

import socket
import time
from urllib.parse import urlsplit

from lxml import etree

from campaigns.hostile import MARKER, Campaign, run_ubl_parser, xml_samples


def unsafe_parse(data: bytes) -> tuple[str, list[str]]:
    """What the hardened reader prevents: a parser that loads DTDs, resolves entities and may use the network."""
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return "refused", [str(exc)]
    return "read", [etree.tostring(root, encoding="unicode")]


def the_sample(tripwires, kind: str, *, tripwired: bool):
    return next(s for s in xml_samples(tripwires, max_bytes=1000) if s.kind == kind and s.tripwired == tripwired)


def test_an_entity_that_opens_a_file_is_caught_by_the_fifo_and_the_marker(campaign, tripwires):
    sample = the_sample(tripwires, "xxe file://", tripwired=True)

    result = campaign.case("unsafe", sample.kind, lambda: unsafe_parse(sample.data), tripwired=True)

    assert "file opened by the parser" in result.problems
    assert "leak: the secret file's content appears in the result" in result.problems


def test_an_entity_that_reads_the_secret_file_leaks_the_marker_and_is_caught(campaign, tripwires):
    sample = the_sample(tripwires, "xxe file://", tripwired=False)

    result = campaign.case("unsafe", sample.kind, lambda: unsafe_parse(sample.data))

    assert "leak: the secret file's content appears in the result" in result.problems


def test_the_hardened_parser_passes_the_same_samples(campaign, tripwires):
    for tripwired in (True, False):
        sample = the_sample(tripwires, "xxe file://", tripwired=tripwired)
        result = campaign.case(
            "hardened", sample.kind, lambda sample=sample: run_ubl_parser(sample.data), tripwired=True
        )
        assert result.problems == [] and result.outcome == "refused (dtd_forbidden)"


def test_python_file_access_outside_the_checkout_is_caught(campaign, tripwires):
    result = campaign.case("reader", "file", lambda: ("read", [tripwires.secret_file.read_text()]))

    assert any(p.startswith("file access:") for p in result.problems)
    assert "leak: the secret file's content appears in the result" in result.problems


def test_a_connection_is_caught_by_the_guard_and_the_listener(campaign, tripwires):
    address = urlsplit(tripwires.http_url)

    def connect():
        with socket.create_connection((address.hostname, address.port), timeout=2):
            return "connected", []

    result = campaign.case("client", "network", connect, tripwired=True)

    assert any(p.startswith("network: socket.connect") for p in result.problems)
    assert "network connect" in result.problems


def busy_for_50_ms() -> tuple[str, list[str]]:
    started = time.perf_counter()
    while time.perf_counter() - started < 0.05:
        pass
    return "read", []


def test_a_crash_and_a_slow_case_are_problems(tripwires, campaign):
    slow = Campaign(tripwires=tripwires, guard=campaign.guard, time_limit=0.01)

    crashed = slow.case("parser", "binary", lambda: 1 / 0)
    waited = slow.case("parser", "huge", busy_for_50_ms)

    assert crashed.outcome == "CRASH ZeroDivisionError"
    assert any(p.startswith("slow:") for p in waited.problems)


def test_the_marker_is_not_in_the_sample_itself(tripwires):
    """Otherwise showing the raw document (pretty_xml does, for a refused one) would count as a leak."""
    assert all(MARKER.encode() not in s.data for s in xml_samples(tripwires, max_bytes=1000))
