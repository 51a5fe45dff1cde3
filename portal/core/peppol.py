"""The portal's side of Peppol validation: which rules pack is active, the process-wide validator, its health.

The active pack is ``PEPPOL_RULES_DIR`` when set, else the installed pack in force today (``manage.py peppol rules
install``; several can be installed, each in force from its date, and the next takes over at midnight in
Europe/Amsterdam), else none: then validation is structural only, and with ``PEPPOL_REQUIRE_RULES`` every document
is refused and /healthz answers 503.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from integrations.peppol.rules import RulesPack, RulesPackError, next_pack, pack_in_force, read_pack, read_pack_kept
from integrations.peppol.validation import Validator, load_validator

logger = logging.getLogger(__name__)

ORIGIN_SETTING = "PEPPOL_RULES_DIR"
ORIGIN_INSTALLED = "installed"
ORIGIN_NONE = "none"


@dataclass(frozen=True)
class ActivePack:
    origin: str  # ORIGIN_SETTING, ORIGIN_INSTALLED or ORIGIN_NONE
    path: Path | None
    pack: RulesPack | None  # None when there is no pack or it cannot be read
    problem: str = ""  # why a configured/installed pack cannot be used

    @property
    def usable(self) -> bool:
        return self.pack is not None

    @property
    def description(self) -> str:
        if self.origin == ORIGIN_SETTING:
            return f"PEPPOL_RULES_DIR={self.path}"
        if self.origin == ORIGIN_INSTALLED:
            return f"installed in {self.path}"
        return "no rules pack"

    @property
    def origin_label(self) -> str:
        """Where the pack comes from, without paths (for /healthz, which anyone can read)."""
        return {ORIGIN_SETTING: "from PEPPOL_RULES_DIR", ORIGIN_INSTALLED: "installed pack"}.get(self.origin, "none")


def active_rules_pack() -> ActivePack:
    """The pack validation uses now. Reads the VERSIONS files (cheap); the SHA-256 check is done by the validator
    when it compiles, and by ``peppol rules status``."""
    configured = settings.PEPPOL_RULES_DIR
    if configured:
        return _read(ORIGIN_SETTING, Path(configured))
    installed = pack_in_force(settings.PEPPOL_DATA_DIR, amsterdam_today())
    if installed is not None:
        return _read(ORIGIN_INSTALLED, installed)
    return ActivePack(ORIGIN_NONE, None, None)


def amsterdam_today() -> datetime.date:
    """The day it is in Europe/Amsterdam (the settings' time zone): a release is in force from midnight there."""
    return timezone.localdate()


@dataclass(frozen=True)
class ScheduledPack:
    effective_from: datetime.date
    path: Path
    pack: RulesPack | None

    @property
    def note(self) -> str:
        """E.g. "next: CEN 1.3.17 + ... from 2027-05-18 (00:00 Europe/Amsterdam)"."""
        label = self.pack.label if self.pack is not None else f"{self.path.name} (unreadable)"
        return f"next: {label} from {self.effective_from.isoformat()} (00:00 Europe/Amsterdam)"


def next_rules_pack() -> ScheduledPack | None:
    """The installed pack that takes over after today, when one is scheduled (never with PEPPOL_RULES_DIR)."""
    if settings.PEPPOL_RULES_DIR:
        return None
    scheduled = next_pack(settings.PEPPOL_DATA_DIR, amsterdam_today())
    if scheduled is None:
        return None
    day, path = scheduled
    try:
        return ScheduledPack(day, path, read_pack(path))
    except RulesPackError:
        return ScheduledPack(day, path, None)


def _read(origin: str, path: Path) -> ActivePack:
    try:
        return ActivePack(origin, path, read_pack_kept(path))
    except RulesPackError as exc:
        return ActivePack(origin, path, None, problem=str(exc))


def get_validator() -> Validator:
    """The validator of the active pack, shared by the whole process (compiled on first use, per process).

    Cheap to call per document: the active pack is looked up again, so a newly installed pack is picked up."""
    active = active_rules_pack()
    max_bytes = settings.PEPPOL_MAX_DOCUMENT_BYTES
    if active.usable:
        return load_validator(active.path, max_bytes=max_bytes)
    if active.problem:
        # A pack was configured or installed but cannot be read: never fall back silently to "valid".
        return load_validator(
            None,
            max_bytes=max_bytes,
            require_rules=True,
            missing_reason=f"the rules pack ({active.description}) is unusable: {active.problem}",
        )
    return load_validator(None, max_bytes=max_bytes, require_rules=settings.PEPPOL_REQUIRE_RULES)


@dataclass(frozen=True)
class RulesHealth:
    ok: bool
    detail: str
    degraded: bool = False


NO_PACK_DETAIL = (
    "no rules pack: structural checks only; invoices are NOT checked against the official Peppol rules "
    "(install them with: manage.py peppol rules fetch)"
)


def rules_health() -> RulesHealth:
    """For /healthz: ok with the versions when a pack is active; without one degraded (invoices are checked for
    structure only), or failing when PEPPOL_REQUIRE_RULES is set."""
    active = active_rules_pack()
    if active.usable:
        pack = active.pack
        scheduled = next_rules_pack()
        upcoming = f"; {scheduled.note}" if scheduled is not None else ""
        return RulesHealth(True, f"{pack.label}, UBL {pack.xsd_version} ({active.origin_label}){upcoming}")
    if active.problem:
        logger.warning("Peppol rules pack unusable (%s): %s", active.description, active.problem)
        return RulesHealth(False, f"rules pack unusable ({active.origin_label}): see manage.py peppol rules status")
    if settings.PEPPOL_REQUIRE_RULES:
        return RulesHealth(False, "no rules pack, but PEPPOL_REQUIRE_RULES is set: every document is refused")
    return RulesHealth(True, NO_PACK_DETAIL, degraded=True)
