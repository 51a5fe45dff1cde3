"""Official validation rules packs: versioned data, checked by SHA-256 before they are trusted.

A rules pack is a directory laid out like ``../shared/peppol``::

    rules/VERSIONS.txt                 version, SHA-256, source and licence of every file in rules/
    rules/CEN-EN16931-UBL.xslt         EN 16931 UBL rules (compiled Schematron, XSLT 2.0)
    rules/PEPPOL-EN16931-UBL.xslt      Peppol BIS Billing 3.0 rules
    rules/SI-UBL-2.0.xslt              SI-UBL 2.0 / NLCIUS rules (includes the CEN rules)
    rules/PEPPOL-EN16931-UBL-SB.xslt   Peppol Self-Billing 3.0 rules (optional)
    rules/SI-UBL-2.0-ext-gaccount.xslt SI-UBL 2.0 with the G-account extension (optional)
    rules/LICENSE-*.txt
    xsd/ubl-2.1/VERSIONS.txt           SHA-256 of every schema module
    xsd/ubl-2.1/maindoc/UBL-{Invoice,CreditNote}-2.1.xsd, xsd/ubl-2.1/common/*.xsd

``install_pack`` copies a pack (directory or zip) into a data directory after checking every SHA-256, into a new
versioned folder under ``packs/``, then switches the ``current`` symlink to it in one atomic rename.

Releases switch on their date: OpenPeppol publishes two releases a year, each mandatory from a stated date. A pack
carries that date (``Effective from: YYYY-MM-DD`` in its ``rules/VERSIONS.txt``), or it is given at install; the
installed folder records it (``EFFECTIVE_FROM``). Several packs can be installed side by side; ``pack_in_force``
is the one with the latest date on or before the day asked for (the portal asks for today in Europe/Amsterdam,
so a release takes over at midnight there), and ``next_pack`` the one that takes over after it.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

RULES_VERSIONS = "rules/VERSIONS.txt"
XSD_DIR = "xsd/ubl-2.1"
XSD_VERSIONS = f"{XSD_DIR}/VERSIONS.txt"
INVOICE_XSD = f"{XSD_DIR}/maindoc/UBL-Invoice-2.1.xsd"
CREDIT_NOTE_XSD = f"{XSD_DIR}/maindoc/UBL-CreditNote-2.1.xsd"

CEN = "CEN-EN16931-UBL"
PEPPOL = "PEPPOL-EN16931-UBL"
SI_UBL = "SI-UBL-2.0"
SELF_BILLING = "PEPPOL-EN16931-UBL-SB"
G_ACCOUNT = "SI-UBL-2.0-ext-gaccount"
STYLESHEETS = (CEN, PEPPOL, SI_UBL)  # every pack has these
OPTIONAL_STYLESHEETS = (SELF_BILLING, G_ACCOUNT)  # used when the pack has them (OpenPeppol 2026.5 and later)
STYLESHEET_LABELS = {CEN: "CEN", PEPPOL: "Peppol", SI_UBL: "SI-UBL", SELF_BILLING: "Peppol SB", G_ACCOUNT: "SI-UBL G"}

PACKS_DIR = "packs"
CURRENT_LINK = "current"
EFFECTIVE_FILE = "EFFECTIVE_FROM"  # in an installed pack's folder: the day it is in force from (ISO date)
_EFFECTIVE_LINE = re.compile(r"^\s*Effective from:\s*([0-9]{4}-[0-9]{2}-[0-9]{2})\s*$", re.MULTILINE)

# Zip guards: the official pack is about 6 MB unpacked in ~25 files.
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per member (XSDs compress ~15x)

_SHA256 = re.compile(r"SHA-256:?\s+([0-9a-f]{64})\b")
_LISTED_FILE = re.compile(r"^\s*([\w.+-]+\.(?:xslt|xsl|txt|xsd))\s*(?:\s.*)?$")
_XSD_LINE = re.compile(r"^\s*([0-9a-f]{64})\s+(\S+)\s*$")
_VERSION = re.compile(r"\bversion\s+(\d+(?:\.\d+)+)|\brelease\s+(\d{4}\.\d+)")


class RulesPackError(ValueError):
    """The directory or zip is not a complete, intact rules pack. The message names the file at fault."""


@dataclass(frozen=True)
class PackFile:
    path: str  # relative to the pack root, with forward slashes
    sha256: str


@dataclass(frozen=True)
class RulesPack:
    """A rules pack as its VERSIONS files describe it (read, not yet verified: see ``verify_pack``)."""

    root: Path
    files: tuple[PackFile, ...]
    stylesheet_versions: tuple[tuple[str, str], ...]  # (name, version): STYLESHEETS, then the optional ones it has
    xsd_version: str
    effective_from: datetime.date | None = None  # the day it is in force from: the installed record or VERSIONS.txt

    @property
    def label(self) -> str:
        """E.g. ``CEN 1.3.16 + Peppol 3.0.21 + SI-UBL 2.0.3.13``."""
        return " + ".join(f"{STYLESHEET_LABELS[name]} {version}" for name, version in self.stylesheet_versions)

    def version_of(self, stylesheet: str) -> str:
        return dict(self.stylesheet_versions)[stylesheet]

    def has(self, stylesheet: str) -> bool:
        return stylesheet in dict(self.stylesheet_versions)

    def label_for(self, stylesheets: tuple[str, ...]) -> str:
        return " + ".join(f"{STYLESHEET_LABELS[name]} {self.version_of(name)}" for name in stylesheets)

    def stylesheet_path(self, stylesheet: str) -> Path:
        return self.root / "rules" / f"{stylesheet}.xslt"

    @property
    def invoice_xsd(self) -> Path:
        return self.root / INVOICE_XSD

    @property
    def credit_note_xsd(self) -> Path:
        return self.root / CREDIT_NOTE_XSD

    @property
    def fingerprint(self) -> str:
        """A short digest of both VERSIONS files' listings: the same pack always gets the same folder name."""
        digest = hashlib.sha256()
        for item in sorted(self.files, key=lambda f: f.path):
            digest.update(f"{item.path}\0{item.sha256}\n".encode())
        return digest.hexdigest()[:12]

    @property
    def folder_name(self) -> str:
        versions = "_".join(f"{STYLESHEET_LABELS[n].lower()}-{v}" for n, v in self.stylesheet_versions)
        return f"{versions}_{self.fingerprint}"


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesPackError(f"{what} is missing: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesPackError(f"{what} cannot be read: {path} ({exc})") from None


def _parse_rules_versions(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """File name → SHA-256 and file name → version from ``rules/VERSIONS.txt``.

    Each file starts a block with its name as the first word of a line; the block's first ``SHA-256`` is the file's
    (later hashes in the block describe other artefacts, e.g. the upstream build it was compared with)."""
    hashes: dict[str, str] = {}
    versions: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        listed = _LISTED_FILE.match(line)
        if listed and not line.strip().startswith(("(", "Source:", "Check:")):
            current = listed.group(1)
        if current is None:
            continue
        sha = _SHA256.search(line)
        if sha and current not in hashes:
            hashes[current] = sha.group(1)
        version = _VERSION.search(line)
        if version and current not in versions and line.strip().startswith("Content:"):
            versions[current] = version.group(1) or version.group(2)
    return hashes, versions


def _parse_xsd_versions(text: str) -> dict[str, str]:
    hashes = {}
    for line in text.splitlines():
        match = _XSD_LINE.match(line)
        if match:
            hashes[match.group(2)] = match.group(1)
    return hashes


def _safe_relative(path: str, where: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise RulesPackError(f"{where} lists an unsafe path: {path}")
    return str(pure)


def read_pack(root: str | os.PathLike) -> RulesPack:
    """Read the VERSIONS files of a pack. Raises RulesPackError when they are missing or do not list the needed files."""
    root = Path(root)
    if not (root / "rules").is_dir():
        raise RulesPackError(f"Not a rules pack: {root} has no rules/ folder")
    rules_versions_text = _read_text(root / RULES_VERSIONS, RULES_VERSIONS)
    rule_hashes, rule_versions = _parse_rules_versions(rules_versions_text)
    xsd_hashes = _parse_xsd_versions(_read_text(root / XSD_VERSIONS, XSD_VERSIONS))
    files: list[PackFile] = []
    for name, sha in rule_hashes.items():
        files.append(PackFile(_safe_relative(f"rules/{name}", RULES_VERSIONS), sha))
    for name, sha in xsd_hashes.items():
        files.append(PackFile(_safe_relative(f"{XSD_DIR}/{name}", XSD_VERSIONS), sha))
    listed = {f.path for f in files}
    stylesheet_versions = []
    for stylesheet in STYLESHEETS:
        file_name = f"{stylesheet}.xslt"
        if f"rules/{file_name}" not in listed:
            raise RulesPackError(f"{RULES_VERSIONS} does not list {file_name} with its SHA-256")
        if file_name not in rule_versions:
            raise RulesPackError(f"{RULES_VERSIONS} gives no version for {file_name}")
        stylesheet_versions.append((stylesheet, rule_versions[file_name]))
    for stylesheet in OPTIONAL_STYLESHEETS:
        file_name = f"{stylesheet}.xslt"
        if f"rules/{file_name}" in listed:
            stylesheet_versions.append((stylesheet, rule_versions.get(file_name, "?")))
    for needed in (INVOICE_XSD, CREDIT_NOTE_XSD):
        if needed not in listed:
            raise RulesPackError(f"{XSD_VERSIONS} does not list {needed.removeprefix(XSD_DIR + '/')} with its SHA-256")
    return RulesPack(
        root=root,
        files=tuple(files),
        stylesheet_versions=tuple(stylesheet_versions),
        xsd_version=XSD_DIR.rsplit("-", 1)[-1],
        effective_from=_recorded_effective_date(root) or _declared_effective_date(rules_versions_text),
    )


_READ_PACKS: dict[tuple, RulesPack] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def read_pack_kept(root: str | os.PathLike) -> RulesPack:
    """``read_pack``, kept in this process while the pack's VERSIONS files and installed date are unchanged
    (validation asks for the active pack per document; a file replaced or edited is read again). Errors are never
    kept."""
    root = Path(root)
    try:
        stamps = [_stamp(root / name) for name in (RULES_VERSIONS, XSD_VERSIONS)]
    except OSError:
        return read_pack(root)  # raises the precise error
    try:
        stamps.append(_stamp(root / EFFECTIVE_FILE))
    except OSError:  # a pack used in place has no installed date
        stamps.append(None)
    key = (str(root), *stamps)
    pack = _READ_PACKS.get(key)
    if pack is None:
        pack = read_pack(root)
        if len(_READ_PACKS) >= 16:
            _READ_PACKS.clear()
        _READ_PACKS[key] = pack
    return pack


def _declared_effective_date(versions_text: str) -> datetime.date | None:
    match = _EFFECTIVE_LINE.search(versions_text)
    if match is None:
        return None
    try:
        return datetime.date.fromisoformat(match.group(1))
    except ValueError:
        raise RulesPackError(f"{RULES_VERSIONS} gives an impossible effective date: {match.group(1)}") from None


def _recorded_effective_date(folder: Path) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((folder / EFFECTIVE_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_pack(pack: RulesPack) -> None:
    """Check every listed file against its SHA-256. Raises RulesPackError naming the first file that is missing or differs."""
    for item in pack.files:
        path = pack.root / item.path
        if path.is_symlink() or not path.is_file():
            raise RulesPackError(f"{item.path} is missing from the pack (listed in its VERSIONS file)")
        actual = sha256_of(path)
        if actual != item.sha256:
            raise RulesPackError(f"{item.path} does not match its SHA-256: expected {item.sha256}, found {actual}")


def load_verified_pack(root: str | os.PathLike) -> RulesPack:
    pack = read_pack(root)
    verify_pack(pack)
    return pack


# --- installed packs ------------------------------------------------------------------------------------------------


def installed_pack_dir(data_dir: str | os.PathLike) -> Path | None:
    """The folder the ``current`` pointer of the data directory names, or None when nothing is installed."""
    link = Path(data_dir) / CURRENT_LINK
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def installed_packs(data_dir: str | os.PathLike) -> list[Path]:
    packs = Path(data_dir) / PACKS_DIR
    if not packs.is_dir():
        return []
    return sorted(p for p in packs.iterdir() if p.is_dir() and not p.name.startswith("."))


def pack_in_force(data_dir: str | os.PathLike, day: datetime.date) -> Path | None:
    """The installed pack in force on ``day``: of the packs with an effective date on or before it, the latest
    (on the same date, the one ``current`` names). A pack installed before packs had dates counts only as
    ``current``, from always."""
    current = installed_pack_dir(data_dir)
    dated = [(date, folder) for folder in installed_packs(data_dir) if (date := _recorded_effective_date(folder))]
    in_force = [(date, folder.resolve() == current, folder) for date, folder in dated if date <= day]
    if in_force:
        return max(in_force, key=lambda item: (item[0], item[1]))[2].resolve()
    return current if current is not None and _recorded_effective_date(current) is None else None


def next_pack(data_dir: str | os.PathLike, day: datetime.date) -> tuple[datetime.date, Path] | None:
    """The installed pack that takes over after ``day``, with its date; None when none is scheduled."""
    later = [(date, folder) for folder in installed_packs(data_dir) if (date := _recorded_effective_date(folder))]
    later = [(date, folder.resolve()) for date, folder in later if date > day]
    return min(later) if later else None


@dataclass(frozen=True)
class InstallResult:
    pack: RulesPack  # as installed, root = the versioned folder in the data directory
    already_installed: bool
    previous: Path | None  # the pack ``current`` pointed to before


def _find_pack_root(directory: Path) -> Path:
    """The pack may sit at the top of the directory/zip or in its single top-level folder."""
    if (directory / RULES_VERSIONS).is_file():
        return directory
    children = [c for c in directory.iterdir() if c.is_dir() and not c.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and (children[0] / RULES_VERSIONS).is_file():
        return children[0]
    raise RulesPackError(f"No {RULES_VERSIONS} found at the top of {directory} (nor in its single top-level folder)")


def _extract_zip(zip_path: Path, into: Path) -> None:
    """Extract with guards against path traversal, links, too many members and zip bombs (sizes counted while reading)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RulesPackError(f"{zip_path} is not a readable zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise RulesPackError(
                f"{zip_path} has {len(members)} entries; a rules pack has far fewer (limit {MAX_ZIP_MEMBERS})"
            )
        total = 0
        for member in members:
            name = member.filename
            pure = PurePosixPath(name)
            if name.startswith(("/", "\\")) or "\\" in name or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
                raise RulesPackError(f"{zip_path} contains an unsafe path and is refused: {name}")
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise RulesPackError(f"{zip_path} contains a symbolic link and is refused: {name}")
            if member.is_dir():
                continue
            if member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1024):
                raise RulesPackError(
                    f"{zip_path}: {name} expands {member.file_size:,} bytes from {member.compress_size:,} (zip bomb?)"
                )
            target = into.joinpath(*pure.parts)
            if not target.resolve().is_relative_to(into.resolve()):
                raise RulesPackError(f"{zip_path} contains an unsafe path and is refused: {name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with archive.open(member) as source, open(target, "wb") as sink:
                for block in iter(lambda: source.read(1 << 20), b""):  # noqa: B023 - consumed within the iteration
                    written += len(block)
                    total += len(block)
                    if written > member.file_size or total > MAX_ZIP_TOTAL_BYTES:
                        raise RulesPackError(
                            f"{zip_path}: {name} expands beyond its declared size or the {MAX_ZIP_TOTAL_BYTES:,}-byte limit (zip bomb?)"
                        )
                    sink.write(block)


def _copy_pack_files(pack: RulesPack, into: Path) -> None:
    for relative in (RULES_VERSIONS, XSD_VERSIONS, *(f.path for f in pack.files)):
        source = pack.root / relative
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _switch_current(data_dir: Path, pack_dir: Path) -> None:
    link = data_dir / CURRENT_LINK
    temporary = data_dir / f".{CURRENT_LINK}.{os.getpid()}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(os.path.relpath(pack_dir, data_dir), temporary)
    os.replace(temporary, link)  # atomic: readers see the old or the new pack, never none


def install_pack(
    source: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    today: datetime.date | None = None,
    effective_from: datetime.date | None = None,
) -> InstallResult:
    """Verify the pack at ``source`` (directory or .zip) completely, then install it: in force from
    ``effective_from`` (else the date the pack declares, else ``today``; a day already past counts as today). A
    pack in force now becomes current; a later one waits for its day beside the current one.

    Nothing is installed unless every listed file is present and matches its SHA-256."""
    source = Path(source)
    data_dir = Path(data_dir)
    if not source.exists():
        raise RulesPackError(f"{source} does not exist")
    data_dir.mkdir(parents=True, exist_ok=True)
    packs = data_dir / PACKS_DIR
    packs.mkdir(exist_ok=True)
    previous = installed_pack_dir(data_dir)
    with tempfile.TemporaryDirectory(prefix=".incoming-", dir=packs) as staging_name:
        staging = Path(staging_name)
        if source.is_dir():
            origin = _find_pack_root(source)
        elif zipfile.is_zipfile(source):
            unpacked = staging / "unpacked"
            unpacked.mkdir()
            _extract_zip(source, unpacked)
            origin = _find_pack_root(unpacked)
        else:
            raise RulesPackError(f"{source} is neither a directory nor a zip file")
        incoming = load_verified_pack(origin)
        effective = effective_from or incoming.effective_from or today
        if effective is not None and today is not None:
            effective = max(effective, today)  # a day already past: in force from now, over what was in force
        final = packs / incoming.folder_name
        already = final.is_dir()
        if already:
            load_verified_pack(final)
        else:
            building = staging / "pack"
            _copy_pack_files(incoming, building)
            load_verified_pack(building)  # the copy, checked again
            os.replace(building, final)
    if effective is not None:
        (final / EFFECTIVE_FILE).write_text(effective.isoformat() + "\n", encoding="utf-8")
    if effective is None or today is None or effective <= today:
        _switch_current(data_dir, final)
    return InstallResult(read_pack(final), already_installed=already, previous=previous)
