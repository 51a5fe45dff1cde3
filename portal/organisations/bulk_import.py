"""Onboarding many clients at once: a CSV of organisations and their AFAS environments, checked row by row first.

The file (as a spreadsheet saves it: comma or semicolon, UTF-8 with or without BOM, or Windows-1252) has one row per
AFAS environment. Every row is checked before anything is created, and the person sees what each row will create and
what is wrong with the others. Creating takes the rows that were valid, checks them again (the world may have moved
on meanwhile) and creates each row's organisation, environment and own identifier together, or nothing of that row.
Secrets never go in the file: a column that looks like one refuses the whole file. The environments then show on the
dashboard as "setup not finished" until their token and keys are set.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from integrations.peppol.identifiers import IdentifierSyntaxError, check_identifier, parse_identifier
from portal.accounts.models import User
from portal.core.validators import AFAS_PARTICIPANT_PATTERN, KVK_PATTERN
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier
from portal.organisations.services import SB_DOMAIN_PATTERN, SettingsRefused, environment_create, organisation_create

MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_CELL = 200

# Column → the header names it is recognised by (lower case, spaces and hyphens as underscores).
COLUMNS = {
    "name": ("name", "organisation", "organisation_name", "naam", "organisatie", "klant"),
    "kvk": ("kvk", "kvk_number", "kvk_nummer", "kvknummer"),
    "participant": ("participant", "afas_participant", "participant_number", "deelnemer", "deelnemernummer"),
    "type": ("type", "environment_type", "omgeving", "soort"),
    "edition": ("edition", "afas_edition", "editie", "pakket"),
    "sb_domain": ("sb_domain", "domain", "afas_sb_domain", "domein"),
    "own_identifier": ("own_identifier", "peppol_id", "peppol_identifier", "identifier", "eigen_peppol_id"),
}
REQUIRED = ("name", "kvk", "participant")
SECRET_HEADERS = re.compile(r"token|secret|geheim|password|wachtwoord|app_?key|sleutel", re.IGNORECASE)
TYPES = {
    "production": Environment.Type.PRODUCTION, "productie": Environment.Type.PRODUCTION, "prod": Environment.Type.PRODUCTION,
    "test": Environment.Type.TEST,
    "accept": Environment.Type.ACCEPT, "acceptance": Environment.Type.ACCEPT, "acceptatie": Environment.Type.ACCEPT,
}  # fmt: skip
EDITIONS = {
    "profit": Environment.Edition.PROFIT, "afas_profit": Environment.Edition.PROFIT,
    "small_business": Environment.Edition.SMALL_BUSINESS, "sb": Environment.Edition.SMALL_BUSINESS,
    "afas_small_business": Environment.Edition.SMALL_BUSINESS,
}  # fmt: skip
TEMPLATE_ROWS = (
    ("name", "kvk", "participant", "type", "edition", "sb_domain", "own_identifier"),
    ("Bakkerij Voorbeeld B.V.", "12345678", "12345", "production", "profit", "", "0106:12345678"),
    ("Bakkerij Voorbeeld B.V.", "12345678", "12345", "test", "profit", "", ""),
    ("Kapsalon Voorbeeld", "23456789", "23456", "production", "small_business", "kapsalon", "NL:KVK:23456789"),
)


class ImportRefused(Exception):
    """The file as a whole cannot be read; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ImportRow:
    line: int  # the line in the file, for the person who fixes it
    name: str = ""
    kvk: str = ""
    participant: str = ""
    type: str = Environment.Type.PRODUCTION
    edition: str = Environment.Edition.PROFIT
    sb_domain: str = ""
    own_identifier: str = ""  # canonical, once checked
    problems: list[str] = field(default_factory=list)
    existing_organisation: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_data(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key not in ("problems", "existing_organisation")}


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def valid(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ok]

    @property
    def invalid(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.ok]


def read_csv(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of the file, each as (line, {column: value}); ``ImportRefused`` when the file cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportRefused(_("The file is larger than 1 MB; split it into smaller files."))
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused(_("The file is empty.")) from None
    except csv.Error as exc:
        raise ImportRefused(_("The file is not a readable CSV file: %(reason)s") % {"reason": exc}) from None
    columns = _columns(header)
    rows = []
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused(_("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS})
            rows.append((reader.line_num, {name: _cell(values, index) for name, index in columns.items()}))
    except csv.Error as exc:
        raise ImportRefused(
            _("Line %(line)s cannot be read: %(reason)s") % {"line": reader.line_num, "reason": exc}
        ) from None
    if not rows:
        raise ImportRefused(_("The file has a header but no rows."))
    return rows


def _decode(content: bytes) -> str:
    if b"\x00" in content[:1000]:
        raise ImportRefused(_("This is not a CSV file. In Excel, choose Save As and then 'CSV UTF-8'."))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file's characters cannot be read; save it as 'CSV UTF-8'."))  # pragma: no cover


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = re.sub(r"[\s\-]+", "_", raw.strip().lower().lstrip("\ufeff"))
        if SECRET_HEADERS.search(name):
            raise ImportRefused(
                _(
                    "The file has a column “%(column)s”: tokens and keys never go in a file. Remove the column; "
                    "set each environment's token and keys on its page afterwards."
                )
                % {"column": raw.strip()[:50]}
            )
        for column, names in COLUMNS.items():
            if name in names and column not in found:
                found[column] = index
    missing = [column for column in REQUIRED if column not in found]
    if missing:
        raise ImportRefused(
            _("The file needs the columns %(columns)s (see the template).") % {"columns": ", ".join(missing)}
        )
    return found


def _cell(values: list[str], index: int) -> str:
    return values[index].strip() if index < len(values) else ""


def plan_import(*, firm: Firm, content: bytes) -> ImportPlan:
    """Check every row of the file; nothing is created. ``ImportRefused`` when the file as a whole is unusable."""
    rows = [_checked_row(line, values) for line, values in read_csv(content)]
    return _check_against_each_other_and_the_portal(firm, rows)


def plan_from_data(*, firm: Firm, data: list[dict]) -> ImportPlan:
    """The valid rows of an earlier plan (as ``as_data`` gave them), checked again."""
    rows = [_checked_row(int(item.get("line", 0)), {k: str(v) for k, v in item.items()}) for item in data[:MAX_ROWS]]
    return _check_against_each_other_and_the_portal(firm, rows)


def _checked_row(line: int, values: dict[str, str]) -> ImportRow:
    row = ImportRow(line=line)
    too_long = [column for column, value in values.items() if len(value) > MAX_CELL]
    if too_long:
        row.problems.append(_("%(columns)s: longer than %(max)s characters.") % {"columns": ", ".join(too_long),
                                                                                  "max": MAX_CELL})  # fmt: skip
        return row
    row.name = values.get("name", "")
    if not row.name:
        row.problems.append(_("The organisation's name is empty."))
    row.kvk = values.get("kvk", "").replace(" ", "")
    if not re.match(KVK_PATTERN, row.kvk):
        row.problems.append(_("“%(kvk)s” is not a KvK number (8 digits).") % {"kvk": row.kvk})
    row.participant = values.get("participant", "")
    if not re.match(AFAS_PARTICIPANT_PATTERN, row.participant):
        row.problems.append(
            _("“%(participant)s” is not an AFAS participant number (5 or 6 digits).") % {"participant": row.participant}
        )
    row.type = _choice(row, values.get("type", ""), TYPES, Environment.Type.PRODUCTION, _("type"))
    row.edition = _choice(row, values.get("edition", ""), EDITIONS, Environment.Edition.PROFIT, _("edition"))
    row.sb_domain = values.get("sb_domain", "").lower()
    if row.edition == Environment.Edition.SMALL_BUSINESS and not row.sb_domain:
        row.problems.append(_("AFAS Small Business needs its domain (column sb_domain)."))
    elif row.sb_domain and not re.match(SB_DOMAIN_PATTERN, row.sb_domain):
        row.problems.append(_("“%(domain)s” is not an AFAS Small Business domain.") % {"domain": row.sb_domain})
    row.own_identifier = _identifier(row, values.get("own_identifier", ""))
    return row


def _choice(row: ImportRow, value: str, choices: dict, default: str, what: str) -> str:
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if not key:
        return default
    if key in choices:
        return choices[key]
    if key in choices.values():
        return key
    row.problems.append(_("“%(value)s” is not a known %(what)s.") % {"value": value, "what": what})
    return default


def _identifier(row: ImportRow, text: str) -> str:
    if not text:
        return ""
    try:
        identifier = parse_identifier(text)
    except IdentifierSyntaxError as exc:
        row.problems.append(_("Own identifier: %(reason)s") % {"reason": exc.message.in_language(_language())})
        return ""
    check = check_identifier(identifier)
    if check.has_problem:
        row.problems.append(
            _("Own identifier %(identifier)s: %(reason)s")
            % {"identifier": identifier.icd, "reason": check.reason.in_language(_language())}
        )
    return identifier.icd


def _language() -> str:
    return get_language() or "en"


def _check_against_each_other_and_the_portal(firm: Firm, rows: list[ImportRow]) -> ImportPlan:
    existing = dict(Organisation.objects.filter(firm=firm).values_list("kvk_number", "name"))
    taken = set(
        Environment.objects.filter(afas_participant_number__in={row.participant for row in rows}).values_list(
            "afas_participant_number", "afas_environment_type"
        )
    )
    names_by_kvk: dict[str, str] = {}
    in_file: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.problems:
            continue
        row.existing_organisation = row.kvk in existing
        first_name = names_by_kvk.setdefault(row.kvk, existing.get(row.kvk, row.name))
        if first_name.casefold() != row.name.casefold():
            row.problems.append(
                _("KvK %(kvk)s is already “%(name)s” (in the portal or higher up in the file).")
                % {"kvk": row.kvk, "name": first_name}
            )
        key = (row.participant, row.type)
        if key in taken:
            row.problems.append(
                _("AFAS participant %(participant)s (%(type)s) is already set up in the portal.")
                % {"participant": row.participant, "type": Environment.Type(row.type).label}
            )
        elif key in in_file:
            row.problems.append(_("The same AFAS environment is on line %(line)s already.") % {"line": in_file[key]})
        else:
            in_file[key] = row.line
    return ImportPlan(rows)


@dataclass
class ImportResult:
    created: list[Environment]
    refused: list[ImportRow]


def import_create(*, firm: Firm, plan: ImportPlan, actor: User | None, file_name: str = "") -> ImportResult:
    """Create the valid rows of a (freshly checked) plan: each row's organisation, environment and own identifier
    together or not at all. A row that fails now (created by someone else meanwhile) is reported, never half-made."""
    created, refused = [], list(plan.invalid)
    for row in plan.valid:
        try:
            with transaction.atomic():
                created.append(_create_row(firm, row, actor, file_name))
        except (SettingsRefused, IntegrityError) as exc:
            row.problems.append(getattr(exc, "message", "") or _("It was created by someone else meanwhile."))
            refused.append(row)
    return ImportResult(created, refused)


def _create_row(firm: Firm, row: ImportRow, actor: User | None, file_name: str) -> Environment:
    organisation = Organisation.objects.filter(firm=firm, kvk_number=row.kvk).first()
    if organisation is None:
        organisation = organisation_create(firm=firm, name=row.name, kvk_number=row.kvk, actor=actor)
    environment = environment_create(
        organisation=organisation,
        actor=actor,
        afas_participant_number=row.participant,
        afas_environment_type=row.type,
        afas_edition=row.edition,
        afas_sb_domain=row.sb_domain,
    )
    event_record(
        environment=environment,
        actor=actor,
        kind=EventKind.ENVIRONMENT_IMPORTED,
        system_actor="import",
        message=Msg("environment.imported", file=file_name or "-", row=str(row.line)),
    )
    if row.own_identifier:
        scheme, value = row.own_identifier.split(":", 1)
        OwnPeppolIdentifier.objects.create(environment=environment, scheme=scheme, value=value)
        event_record(
            environment=environment,
            actor=actor,
            kind=EventKind.OWN_IDENTIFIER_ADDED,
            message=Msg("environment.own_identifier_added", identifier=row.own_identifier),
        )
    return environment


COLUMN_HELP = (
    ("name", gettext_lazy("the organisation's name (rows with the same KvK number are one organisation)")),
    ("kvk", gettext_lazy("its KvK number, 8 digits")),
    ("participant", gettext_lazy("the AFAS participant number (5 or 6 digits)")),
    ("type", gettext_lazy("production, test or acceptance (empty: production)")),
    ("edition", gettext_lazy("profit or small_business (empty: profit)")),
    ("sb_domain", gettext_lazy("Small Business only: the domain, e.g. 'acme' in https://acme.afasfocus.nl")),
    ("own_identifier", gettext_lazy("optional: the organisation's own Peppol identifier, in either notation")),
)
