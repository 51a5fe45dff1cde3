"""Benchmark of Peppol validation on the shared corpus: ``python -m benchmarks.peppol_validation``.

Reports, per document and overall, the warm validation time of ``integrations.peppol.validation`` (median, p95),
documents per second and peak memory, next to a bare baseline measured in the same run: the same UBL XSD and
stylesheets run directly with lxml and saxonche (parse, XSD, transform to SVRL string; nothing else). Target:
median warm validation of a typical invoice within 1.5x the bare baseline, and no stylesheet compilation per
document (counted). Django is not needed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from benchmarks.harness import percentile
from integrations.peppol import namespaces as ns
from integrations.peppol.rules import load_verified_pack
from integrations.peppol.validation import Validator, choose_stylesheets, stylesheet_compilations

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "peppol"
TYPICAL = ("valid/05_si_SI-UBL-2.0_ok_full.xml", "valid/01_cen_BIS3_Invoice_positive.xml")
TARGET_RATIO = 1.5


class BareBaseline:
    """The official artefacts run with nothing around them: what any validator has to spend at least."""

    def __init__(self, rules_dir: Path):
        from saxonche import PySaxonProcessor

        pack = load_verified_pack(rules_dir)
        self.processor = PySaxonProcessor(license=False)
        xslt = self.processor.new_xslt30_processor()
        self.executables = {
            name: xslt.compile_stylesheet(stylesheet_file=str(pack.stylesheet_path(name)))
            for name in ("CEN-EN16931-UBL", "PEPPOL-EN16931-UBL", "SI-UBL-2.0")
        }
        self.schemas = {
            ns.INVOICE_ROOT: etree.XMLSchema(etree.parse(str(pack.invoice_xsd))),
            ns.CREDIT_NOTE_ROOT: etree.XMLSchema(etree.parse(str(pack.credit_note_xsd))),
        }

    def run(self, data: bytes) -> None:
        tree = etree.fromstring(data).getroottree()
        self.schemas[tree.getroot().tag].validate(tree)
        node = self.processor.parse_xml(xml_text=data.decode("utf-8"))
        for name in choose_stylesheets(tree.getroot().findtext(f"{{{ns.CBC}}}CustomizationID")):
            try:
                self.executables[name].transform_to_string(xdm_node=node)
            except Exception:  # the same runtime errors the validator reports
                pass


@dataclass
class Timings:
    validator: list[float]
    bare: list[float]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _typical_invoice(line_count: int):
    """An invoice as a Dutch firm's client sends it: lines at 21% and 9%, SEPA credit transfer."""
    from datetime import date
    from decimal import Decimal

    from integrations.peppol.model import (
        Address,
        DocumentType,
        Identifier,
        InvoiceDocument,
        InvoiceLine,
        Party,
        PaymentMeans,
        Vat,
    )

    address = Address(street="Keizersgracht 1", city="Amsterdam", postal_zone="1015 CJ", country_code="NL")
    rates = (Vat.standard(Decimal("21")), Vat.standard(Decimal("9")))
    return InvoiceDocument(
        document_type=DocumentType.INVOICE,
        number="F2026-0001",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        currency="EUR",
        supplier=Party(
            name="Bakkerij De Korenschoof B.V.",
            endpoint=Identifier("0106", "34567890"),
            legal_id=Identifier("0106", "34567890"),
            vat_id="NL123456789B01",
            address=address,
        ),
        customer=Party(
            name="Installatiebedrijf Noordhoek",
            endpoint=Identifier("0106", "45678901"),
            legal_id=Identifier("0106", "45678901"),
            vat_id="NL987654321B01",
            address=address,
        ),
        lines=tuple(
            InvoiceLine(
                id=str(number),
                name=f"Article {number}",
                quantity=Decimal("2.5"),
                unit_code="C62",
                price=Decimal("12.34"),
                vat=rates[number % 2],
            )
            for number in range(1, line_count + 1)
        ),
        buyer_reference="PO-4711",
        payment_means=(PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id="F2026-0001"),),
    )


def builder_throughput(rounds: int = 200) -> dict:
    """Documents built per second by build_ubl: a 10-line invoice and a 250-line invoice, model construction included."""
    from integrations.peppol.builder import build_ubl

    figures = {}
    for line_count in (10, 250):
        build_ubl(_typical_invoice(line_count))  # warm
        count = rounds if line_count == 10 else max(rounds // 10, 5)
        started = time.perf_counter()
        for _ in range(count):
            build_ubl(_typical_invoice(line_count))
        elapsed = time.perf_counter() - started
        figures[f"{line_count}_lines_per_second"] = round(count / elapsed, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-dir", default=os.environ.get("PEPPOL_RULES_DIR") or str(DEFAULT_RULES_DIR))
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds over the corpus (after 3 warm-up rounds)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)

    rules_dir = Path(options.rules_dir)
    corpus_dir = rules_dir / "corpus"
    if not (rules_dir / "rules").is_dir() or not corpus_dir.is_dir():
        print(f"No rules pack with a corpus at {rules_dir} (set PEPPOL_RULES_DIR or --rules-dir)", file=sys.stderr)
        return 2
    names = sorted(str(p.relative_to(corpus_dir)) for p in corpus_dir.glob("*/*.xml"))
    documents = {name: (corpus_dir / name).read_bytes() for name in names}

    # Cold start: the first validation of each kind compiles its stylesheets.
    validator = Validator(rules_dir)
    started = time.perf_counter()
    for data in documents.values():
        validator.validate(data)
    cold_pass = time.perf_counter() - started
    compiled_cold = stylesheet_compilations()
    bare = BareBaseline(rules_dir)

    timings = {name: Timings([], []) for name in names}
    for round_number in range(3 + options.rounds):
        for name, data in documents.items():
            t0 = time.perf_counter()
            validator.validate(data)
            t1 = time.perf_counter()
            bare.run(data)
            t2 = time.perf_counter()
            if round_number >= 3:
                timings[name].validator.append(t1 - t0)
                timings[name].bare.append(t2 - t1)
    compiled_during_timing = stylesheet_compilations() - compiled_cold
    validations_timed = options.rounds * len(names)

    # Sequential throughput over the whole corpus, validator only.
    started = time.perf_counter()
    for _ in range(5):
        for data in documents.values():
            validator.validate(data)
    documents_per_second = 5 * len(names) / (time.perf_counter() - started)

    # Python-side peak of one corpus pass (Saxon's native heap is in maxrss, not in tracemalloc).
    tracemalloc.start()
    for data in documents.values():
        validator.validate(data)
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    all_validator = [t for item in timings.values() for t in item.validator]
    all_bare = [t for item in timings.values() for t in item.bare]
    per_document = {
        name: {
            "bytes": len(documents[name]),
            "validator_median_ms": statistics.median(item.validator) * 1000,
            "validator_p95_ms": percentile(item.validator, 0.95) * 1000,
            "bare_median_ms": statistics.median(item.bare) * 1000,
            "ratio": statistics.median(item.validator) / statistics.median(item.bare),
        }
        for name, item in timings.items()
    }
    typical = {name: per_document[name]["ratio"] for name in TYPICAL if name in per_document}
    report = {
        "rules_dir": str(rules_dir),
        "documents": len(names),
        "rounds": options.rounds,
        "cold_first_pass_s": cold_pass,
        "stylesheet_compilations_total": stylesheet_compilations(),
        "stylesheet_compilations_during_timed_validations": compiled_during_timing,
        "validations_timed": validations_timed,
        "validator_median_ms": statistics.median(all_validator) * 1000,
        "validator_p95_ms": percentile(all_validator, 0.95) * 1000,
        "bare_median_ms": statistics.median(all_bare) * 1000,
        "bare_p95_ms": percentile(all_bare, 0.95) * 1000,
        "median_ratio_all_documents": statistics.median(d["ratio"] for d in per_document.values()),
        "typical_invoice_ratio": typical,
        "target_ratio": TARGET_RATIO,
        "target_met": all(r <= TARGET_RATIO for r in typical.values()) and compiled_during_timing == 0,
        "documents_per_second": documents_per_second,
        "python_peak_mib": python_peak / 2**20,
        "max_rss_mib": maxrss_kib / 1024,
        "per_document": per_document,
        "builder_throughput": builder_throughput(),
    }
    if options.json:
        print(json.dumps(report, indent=2))
        return 0 if report["target_met"] else 1

    print(f"Peppol validation benchmark: {len(names)} corpus documents x {options.rounds} warm rounds ({rules_dir})")
    print(f"{'document':<62}{'bytes':>9}  {'valid. ms':>9} {'p95 ms':>8}  {'bare ms':>8}  ratio")
    for name, row in per_document.items():
        print(
            f"{name[:61]:<62}{row['bytes']:>9}  {ms(row['validator_median_ms'] / 1000)} {ms(row['validator_p95_ms'] / 1000)}"
            f"  {ms(row['bare_median_ms'] / 1000)}  {row['ratio']:.2f}x"
        )
    print()
    print(
        f"All documents, warm:  validator median {report['validator_median_ms']:.2f} ms, p95 {report['validator_p95_ms']:.2f} ms"
    )
    print(
        f"                      bare      median {report['bare_median_ms']:.2f} ms, p95 {report['bare_p95_ms']:.2f} ms"
    )
    print(f"Median ratio validator/bare over the documents: {report['median_ratio_all_documents']:.2f}x")
    for name, ratio in typical.items():
        print(f"Typical invoice {name}: {ratio:.2f}x bare (target <= {TARGET_RATIO}x)")
    print(f"Throughput (sequential, one process): {documents_per_second:.0f} documents/s")
    print(f"Cold first pass (includes compiling): {cold_pass:.2f} s")
    print(
        f"Stylesheet compilations: {report['stylesheet_compilations_total']} in total, "
        f"{compiled_during_timing} during {validations_timed} timed validations"
    )
    print(
        f"Peak memory: max RSS {report['max_rss_mib']:.0f} MiB (process, incl. Saxon), Python peak of one pass {report['python_peak_mib']:.1f} MiB"
    )
    builder = report["builder_throughput"]
    print(
        f"Builder: {builder['10_lines_per_second']:.0f} documents/s (10 lines), "
        f"{builder['250_lines_per_second']:.0f} documents/s (250 lines), model construction included"
    )
    print(f"Target met: {'yes' if report['target_met'] else 'NO'}")
    return 0 if report["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
