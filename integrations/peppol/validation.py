"""Validate UBL invoices and credit notes the way Peppol access points do: XSD, then the official compiled rules.

1. the hardened parse of ``integrations.peppol.xml`` (a refused document is an invalid result, source ``xml``);
2. UBL 2.1 XSD (lxml) for the Invoice or CreditNote root (source ``xsd``);
3. the official Schematron rules compiled to XSLT 2.0, run with SaxonC-HE (saxonche), chosen by CustomizationID:
   Peppol BIS Billing 3.0 → CEN + Peppol; Peppol self-billing → CEN + Peppol SB; NLCIUS → SI-UBL (which contains
   every CEN rule), with the G-account extension → SI-UBL G-account instead; anything else → CEN. A pack without
   the self-billing or G-account stylesheet checks such documents as billing or NLCIUS, and says so (a warning).
   Each ``svrl:failed-assert`` becomes a Finding (source = stylesheet name); a Saxon runtime error on a malformed
   document becomes a fatal ``validator`` finding, never an exception.

Valid = no fatal finding. Warnings do not invalidate.

The stylesheets and schemas are compiled once per process, lazily on first use (never at import time, so never
before a Celery prefork), keyed by ``os.getpid()`` so that a forked child builds its own; a lock serialises
compilation and transforms. Without a rules pack only the structural checks run, and every result says so.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.hints import hint_for, rule_prefix, validator_error_hint, xml_hint, xsd_hint
from integrations.peppol.i18n import Text
from integrations.peppol.rules import (
    OPTIONAL_STYLESHEETS,
    STYLESHEETS,
    RulesPack,
    RulesPackError,
    load_verified_pack,
)
from integrations.peppol.stylesheet_choice import (
    choose_stylesheets,
    extension_not_checked,
    normalise_customization_id,
)
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, find_ubl_document, parse_untrusted_xml

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Finding",
    "Severity",
    "ValidationResult",
    "Validator",
    "choose_stylesheets",
    "load_validator",
    "parse_svrl",
]

SOURCE_XML = "xml"
SOURCE_XSD = "xsd"
SOURCE_VALIDATOR = "validator"

RULE_XSD = "XSD"
RULE_VALIDATOR_ERROR = "VALIDATOR-ERROR"
RULE_RULES_MISSING = "RULES-MISSING"
RULE_RULES_PACK_INVALID = "RULES-PACK-INVALID"

MAX_XSD_FINDINGS = 100

NOTICE_STRUCTURAL_ONLY = Text(
    "Official rules not installed: structural checks only (well-formed XML and a UBL Invoice/CreditNote root). "
    "The UBL XSD and the EN 16931/Peppol/NLCIUS business rules were NOT checked: they are part of the rules pack.",
    "Officiële regels niet geïnstalleerd: alleen structurele controles (geldige XML en een UBL Invoice/CreditNote). "
    "De UBL-XSD en de EN 16931/Peppol/NLCIUS-bedrijfsregels zijn NIET gecontroleerd: die horen bij het regelpakket.",
)


class Severity(StrEnum):
    FATAL = "fatal"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    message: str
    location: str
    source: (
        str  # "xml", "xsd", a stylesheet name ("CEN-EN16931-UBL", "PEPPOL-EN16931-UBL", "SI-UBL-2.0") or "validator"
    )
    hint: Text | None = None

    @property
    def rule_ids(self) -> frozenset[str]:
        """The ids this finding reports: its own and the ``[...]`` prefix of its message (SI-UBL sub-rules)."""
        prefix = rule_prefix(self.message)
        return frozenset({self.rule_id, prefix} if prefix else {self.rule_id})

    def reports(self, rule_id: str) -> bool:
        return rule_id in self.rule_ids


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    findings: tuple[Finding, ...]
    structural_only: bool  # True when no rules pack was available: only the XML parse and the UBL root were checked
    rules_version: str  # e.g. "CEN 1.3.16 + Peppol 3.0.21", "" when structural only
    notice: Text | None  # set in every result without a pack

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.FATAL)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def reports(self, rule_id: str, severity: Severity | None = None) -> bool:
        """Whether a finding reports ``rule_id`` (by id or message prefix), optionally with that severity."""
        return any(f.reports(rule_id) and (severity is None or f.severity is severity) for f in self.findings)

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        return {
            "valid": self.valid,
            "structural_only": self.structural_only,
            "rules_version": self.rules_version,
            "notice": self.notice.in_language(language) if self.notice else None,
            "findings": [
                {
                    "rule_id": f.rule_id,
                    "severity": str(f.severity),
                    "message": f.message,
                    "location": f.location,
                    "source": f.source,
                    "hint": f.hint.in_language(language) if f.hint else None,
                }
                for f in self.findings
            ],
        }


# --- stylesheet choice and SVRL -------------------------------------------------------------------------------------


_SVRL_FAILED_ASSERT = f"{{{ns.SVRL}}}failed-assert"
_SVRL_TEXT = f"{{{ns.SVRL}}}text"
_LOCATION_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")
_LOCATION_PREFIXES = {
    ns.INVOICE: "",
    ns.CREDIT_NOTE: "",
    ns.CAC: "cac:",
    ns.CBC: "cbc:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext:",
}


def readable_location(location: str) -> str:
    """``/*:Invoice[namespace-uri()='…Invoice-2'][1]/*:AccountingSupplierParty[…][1]`` → ``/Invoice[1]/cac:AccountingSupplierParty[1]``."""
    return _LOCATION_STEP.sub(lambda m: _LOCATION_PREFIXES.get(m.group(2), "*:") + m.group(1), location)


_SVRL_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
# Re-reads a document the hardened parser already accepted (the Invoice taken out of its SBDH envelope).
_REPARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_svrl(svrl: str | bytes, source: str) -> tuple[Finding, ...]:
    """Every ``svrl:failed-assert`` as a Finding. The rule id is ``@id``, or for the SI-UBL asserts without one,
    the ``[...]`` prefix of the message. Flags other than ``warning`` count as fatal (the safe side)."""
    if isinstance(svrl, str):
        svrl = svrl.encode("utf-8")
    root = etree.fromstring(svrl, _SVRL_PARSER)
    findings = []
    for failed in root.iter(_SVRL_FAILED_ASSERT):
        text_element = failed.find(_SVRL_TEXT)
        message = " ".join("".join(text_element.itertext()).split()) if text_element is not None else ""
        rule_id = (failed.get("id") or "").strip() or rule_prefix(message) or "UNKNOWN"
        severity = Severity.WARNING if (failed.get("flag") or "").strip() == "warning" else Severity.FATAL
        findings.append(
            Finding(
                rule_id=rule_id,
                severity=severity,
                message=message,
                location=readable_location(failed.get("location") or ""),
                source=source,
                hint=hint_for(rule_id, message),
            )
        )
    return tuple(findings)


# --- the per-process engine -----------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_COMPILATIONS = 0  # stylesheet compilations in this process (the benchmark proves there is none per document)


def _reset_after_fork() -> None:
    global _LOCK, _COMPILATIONS
    _LOCK = threading.RLock()  # a lock held by another thread at fork time would never be released in the child
    _COMPILATIONS = 0


os.register_at_fork(after_in_child=_reset_after_fork)


def stylesheet_compilations() -> int:
    """How many stylesheets this process has compiled so far."""
    return _COMPILATIONS


class _Engine:
    """The Saxon processor, compiled stylesheets and XSD schemas of one rules pack in one process."""

    def __init__(self, pack: RulesPack):
        from saxonche import PySaxonProcessor  # imported here: nothing of Saxon exists before the first validation

        self.pid = os.getpid()
        self.pack = pack
        self.processor = PySaxonProcessor(license=False)
        self.xslt = self.processor.new_xslt30_processor()
        self.executables: dict[str, Any] = {}
        self.schemas: dict[str, etree.XMLSchema] = {}
        self.compilations = 0
        self._stderr_sink = tempfile.TemporaryFile()

    def executable(self, stylesheet: str) -> Any:
        global _COMPILATIONS
        if stylesheet not in self.executables:
            path = self.pack.stylesheet_path(stylesheet)
            self.executables[stylesheet] = self.xslt.compile_stylesheet(stylesheet_file=str(path))
            self.compilations += 1
            _COMPILATIONS += 1
            logger.debug("Compiled %s (pid %s)", path, self.pid)
        return self.executables[stylesheet]

    def schema(self, root_tag: str) -> etree.XMLSchema:
        if root_tag not in self.schemas:
            path = self.pack.invoice_xsd if root_tag == ns.INVOICE_ROOT else self.pack.credit_note_xsd
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            self.schemas[root_tag] = etree.XMLSchema(etree.parse(str(path), parser))
        return self.schemas[root_tag]

    @contextmanager
    def _stderr_captured(self) -> Iterator[list[str]]:
        """Point fd 2 at a scratch file while Saxon runs; the list receives what was written, after the block."""
        captured: list[str] = []
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to protect
            yield captured
            return
        sink = self._stderr_sink
        sink.seek(0)
        sink.truncate()
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            if text:
                captured.append(text)

    def transform(self, stylesheet: str, node: Any) -> str:
        """Run a compiled stylesheet. Saxon prints its runtime errors to stderr as well as raising them: the
        printout goes to the debug log instead of flooding the worker's log (the exception carries the message)."""
        executable = self.executable(stylesheet)
        failure: BaseException | None = None
        svrl = ""
        with self._stderr_captured() as captured:
            try:
                svrl = executable.transform_to_string(xdm_node=node)
            except Exception as exc:
                failure = exc
        if captured:
            if failure is not None:
                logger.debug("Saxon stderr while running %s: %s", stylesheet, captured[0])
            else:  # not Saxon's: another thread wrote to stderr meanwhile; hand it back
                os.write(2, captured[0].encode("utf-8"))
        if failure is not None:
            raise failure
        if not svrl:
            raise RuntimeError(f"{stylesheet} produced no report")
        return svrl

    def warm_up(self) -> None:
        for stylesheet, _version in self.pack.stylesheet_versions:
            self.executable(stylesheet)
        for root_tag in (ns.INVOICE_ROOT, ns.CREDIT_NOTE_ROOT):
            self.schema(root_tag)


# --- the validator --------------------------------------------------------------------------------------------------


@dataclass
class _EngineSlot:
    engine: _Engine | None = None
    error: str | None = None
    pid: int = field(default=-1)


class Validator:
    """Validates UBL documents against one rules pack (or, with ``rules_dir=None``, structurally only)."""

    def __init__(
        self,
        rules_dir: str | os.PathLike | None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        require_rules: bool = False,
        missing_reason: str = "",
    ):
        self.rules_dir = Path(rules_dir) if rules_dir else None
        self.max_bytes = max_bytes
        self.require_rules = require_rules
        self.missing_reason = missing_reason
        self._slot = _EngineSlot()

    def __repr__(self) -> str:
        return f"Validator(rules_dir={self.rules_dir!s}, require_rules={self.require_rules})"

    @property
    def has_rules(self) -> bool:
        return self.rules_dir is not None

    # engine --------------------------------------------------------------------------------------------------------

    def _engine(self) -> _Engine:
        """This process's engine, built on first use (under the lock). Raises RulesPackError if the pack is unusable."""
        slot = self._slot
        pid = os.getpid()
        if slot.pid != pid:
            with _LOCK:
                if slot.pid != pid:
                    try:
                        pack = load_verified_pack(self.rules_dir)
                        slot.engine, slot.error = _Engine(pack), None
                    except RulesPackError as exc:
                        slot.engine, slot.error = None, str(exc)
                    slot.pid = pid
        if slot.engine is None:
            raise RulesPackError(slot.error or "rules pack unusable")
        return slot.engine

    def warm_up(self) -> None:
        """Compile every stylesheet and schema now (e.g. in a worker after fork), instead of on first use."""
        if self.has_rules:
            with _LOCK:
                self._engine().warm_up()

    @property
    def compile_count(self) -> int:
        """Stylesheets compiled by this validator in this process."""
        slot = self._slot
        return slot.engine.compilations if slot.engine is not None and slot.pid == os.getpid() else 0

    @property
    def pack(self) -> RulesPack | None:
        return self._engine().pack if self.has_rules else None

    # validation ----------------------------------------------------------------------------------------------------

    def validate(self, data: bytes, *, stylesheets: Sequence[str] | None = None) -> ValidationResult:
        """Validate one document. ``stylesheets`` overrides the choice by CustomizationID (conformance tests)."""
        try:
            tree = parse_untrusted_xml(data, max_bytes=self.max_bytes)
            element, wrapped = find_ubl_document(tree)
        except XmlRejected as exc:
            return self._rejected(exc)
        if not self.has_rules:
            return self._structural_only()
        try:
            engine = self._engine()
        except RulesPackError as exc:
            finding = Finding(
                rule_id=RULE_RULES_PACK_INVALID,
                severity=Severity.FATAL,
                message=f"The rules pack cannot be used, so the document was not checked: {exc}",
                location="",
                source=SOURCE_VALIDATOR,
                hint=validator_error_hint(RULE_RULES_PACK_INVALID),
            )
            return ValidationResult(False, (finding,), structural_only=False, rules_version="", notice=None)

        customization_id = element.findtext(f"{{{ns.CBC}}}CustomizationID")
        available = [name for name in OPTIONAL_STYLESHEETS if engine.pack.has(name)]
        chosen = tuple(stylesheets) if stylesheets is not None else choose_stylesheets(customization_id, available)
        unknown = [s for s in chosen if s not in STYLESHEETS and s not in available]
        if unknown:
            raise ValueError(f"Unknown stylesheet(s) {unknown}; known: {STYLESHEETS + tuple(available)}")

        document_text = etree.tostring(element, encoding="unicode")
        findings: list[Finding] = []
        if wrapped:
            # Validate the Invoice/CreditNote on its own, as the receiving access point will after unwrapping.
            xsd_document = etree.ElementTree(etree.fromstring(document_text.encode("utf-8"), _REPARSER))
        else:
            xsd_document = tree
        with _LOCK:
            findings.extend(self._xsd_findings(engine, element.tag, xsd_document))
            if stylesheets is None:
                findings.extend(_not_checked_extension(normalise_customization_id(customization_id), chosen))
            findings.extend(self._rule_findings(engine, chosen, document_text))
        valid = not any(f.severity is Severity.FATAL for f in findings)
        return ValidationResult(
            valid=valid,
            findings=tuple(findings),
            structural_only=False,
            rules_version=engine.pack.label_for(chosen),
            notice=None,
        )

    def validate_file(self, path: str | os.PathLike, **kwargs: Any) -> ValidationResult:
        with open(path, "rb") as handle:
            data = handle.read(self.max_bytes + 1)
        return self.validate(data, **kwargs)

    def _rejected(self, exc: XmlRejected) -> ValidationResult:
        finding = Finding(
            rule_id=f"XML-{exc.kind.upper().replace('_', '-')}",
            severity=Severity.FATAL,
            message=exc.message.en,
            location="",
            source=SOURCE_XML,
            hint=xml_hint(exc.kind, exc.message),
        )
        findings: tuple[Finding, ...] = (finding,)
        if not self.has_rules:
            return ValidationResult(False, findings, True, "", self._notice())
        return ValidationResult(False, findings, False, self._pack_label(), None)

    def _structural_only(self) -> ValidationResult:
        findings: tuple[Finding, ...] = ()
        if self.require_rules:
            reason = f" ({self.missing_reason})" if self.missing_reason else ""
            findings = (
                Finding(
                    rule_id=RULE_RULES_MISSING,
                    severity=Severity.FATAL,
                    message=f"The official validation rules are required but no rules pack is available{reason}; "
                    "the document cannot be accepted without them.",
                    location="",
                    source=SOURCE_VALIDATOR,
                    hint=validator_error_hint(RULE_RULES_MISSING),
                ),
            )
        return ValidationResult(not findings, findings, True, "", self._notice())

    def _notice(self) -> Text:
        if not self.missing_reason:
            return NOTICE_STRUCTURAL_ONLY
        return Text(
            f"{NOTICE_STRUCTURAL_ONLY.en} Reason: {self.missing_reason}",
            f"{NOTICE_STRUCTURAL_ONLY.nl} Reden: {self.missing_reason}",
        )

    def _pack_label(self) -> str:
        try:
            return self._engine().pack.label
        except RulesPackError:
            return ""

    def _xsd_findings(self, engine: _Engine, root_tag: str, document: etree._ElementTree) -> list[Finding]:
        schema = engine.schema(root_tag)
        if schema.validate(document):
            return []
        findings = []
        errors = list(schema.error_log)
        for error in errors[:MAX_XSD_FINDINGS]:
            path = getattr(error, "path", None) or ""
            location = f"line {error.line}" + (f", {readable_location(path)}" if path else "")
            findings.append(
                Finding(
                    rule_id=RULE_XSD,
                    severity=Severity.FATAL,
                    message=error.message,
                    location=location,
                    source=SOURCE_XSD,
                    hint=xsd_hint(error.message),
                )
            )
        if len(errors) > MAX_XSD_FINDINGS:
            findings.append(
                Finding(
                    rule_id=RULE_XSD,
                    severity=Severity.FATAL,
                    message=f"... and {len(errors) - MAX_XSD_FINDINGS} more XSD errors",
                    location="",
                    source=SOURCE_XSD,
                )
            )
        return findings

    def _rule_findings(self, engine: _Engine, chosen: tuple[str, ...], document_text: str) -> list[Finding]:
        findings: list[Finding] = []
        try:
            node = engine.processor.parse_xml(xml_text=document_text)
        except Exception as exc:  # Saxon refuses what lxml accepted: report, never crash
            return [_validator_error("the rules engine could not read the document", exc)]
        for stylesheet in chosen:
            try:
                svrl = engine.transform(stylesheet, node)
            except Exception as exc:  # e.g. XPTY0004 on two RegistrationNames for one party
                logger.info("Stylesheet %s stopped with an error: %s", stylesheet, exc)
                findings.append(_validator_error(f"the official {stylesheet} rules stopped on this document", exc))
                continue
            try:
                findings.extend(parse_svrl(svrl, stylesheet))
            except etree.XMLSyntaxError as exc:
                findings.append(_validator_error(f"the {stylesheet} report could not be read", exc))
        return findings


def _validator_error(what: str, exc: BaseException) -> Finding:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return Finding(
        rule_id=RULE_VALIDATOR_ERROR,
        severity=Severity.FATAL,
        message=f"Invalid: validator error: {what}, so the document cannot be accepted ({detail})",
        location="",
        source=SOURCE_VALIDATOR,
        hint=validator_error_hint(RULE_VALIDATOR_ERROR),
    )


def _not_checked_extension(customization_id: str, chosen: tuple[str, ...]) -> list[Finding]:
    """A warning when the document names rules the pack does not have (it was checked by the nearest rules)."""
    notice = extension_not_checked(customization_id, chosen)
    if notice is None:
        return []
    rule_id, message = notice
    location = "/Invoice/cbc:CustomizationID"
    return [Finding(rule_id, Severity.WARNING, message, location=location, source=SOURCE_VALIDATOR)]


_VALIDATORS: dict[tuple[str | None, int, bool, str], Validator] = {}
_VALIDATORS_LOCK = threading.Lock()


def load_validator(
    rules_dir: str | os.PathLike | None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    require_rules: bool = False,
    missing_reason: str = "",
) -> Validator:
    """The validator for a rules pack directory (None: structural checks only), one per process per directory.

    Nothing is compiled here: the first ``validate`` (or ``warm_up``) compiles what it needs."""
    directory = str(Path(rules_dir).resolve()) if rules_dir else None
    key = (directory, max_bytes, require_rules, missing_reason)
    with _VALIDATORS_LOCK:
        validator = _VALIDATORS.get(key)
        if validator is None:
            validator = Validator(
                directory, max_bytes=max_bytes, require_rules=require_rules, missing_reason=missing_reason
            )
            _VALIDATORS[key] = validator
        return validator
