"""`manage.py peppol rules fetch | install PATH | status`: the official validation rules packs.

``fetch`` downloads the pinned official releases (``integrations.peppol.rules_fetch``), checks each file against the
SHA-256 pinned in the code and installs them as a pack; offline it says what to download and where to put it.

``install`` checks every SHA-256 listed in the pack's VERSIONS files (the whole pack is refused, naming the file, on
any mismatch or missing file), copies it into a new versioned folder in PEPPOL_DATA_DIR and switches the ``current``
pointer to it atomically. ``status`` shows the active pack (PEPPOL_RULES_DIR, else the installed one), its
versions and whether its files still match their SHA-256.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.conf import settings

from integrations.peppol.rules import (
    STYLESHEETS,
    RulesPackError,
    install_pack,
    installed_pack_dir,
    installed_packs,
    verify_pack,
)
from integrations.peppol.rules_fetch import PINNED, RELEASE, download_instructions, fetch_pack, install_from_folder
from portal.core.peppol import ORIGIN_SETTING, active_rules_pack, amsterdam_today, next_rules_pack

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="Install the official validation rules pack or show which one is active.",
        description="Manage the official Peppol validation rules packs (stylesheets + UBL XSD, checked by SHA-256).",
    )
    actions = parser.add_subparsers(dest="rules_action", required=True, metavar="{fetch,install,status}")
    fetch = actions.add_parser(
        "fetch",
        help="Download the pinned official rules and install them (every file checked against its pinned SHA-256).",
        description=(
            f"Download the pinned official validation rules ({RELEASE}) from their publishers, check every file "
            "against the SHA-256 pinned in the portal's code, and install them as the current pack. Nothing is "
            "installed unless every file matches. Without internet access, it prints what to download and where "
            "to put it."
        ),
    )
    source = fetch.add_mutually_exclusive_group()
    source.add_argument(
        "--from",
        dest="mirror",
        metavar="URL",
        help="a mirror laid out like a pack (URL/rules/..., URL/xsd/ubl-2.1/...) instead of the publishers",
    )
    source.add_argument(
        "--from-folder",
        dest="folder",
        metavar="FOLDER",
        help="the pinned files, downloaded elsewhere, in a folder laid out like a pack",
    )
    fetch.set_defaults(run=run_fetch)
    install = actions.add_parser(
        "install",
        help="Verify a rules pack (directory or .zip) and make it the installed pack.",
        description=(
            "Verify every file of a rules pack against the SHA-256 in its VERSIONS files, copy it into "
            "PEPPOL_DATA_DIR/packs/<versions> and make it current. Nothing is installed if any file is missing or differs."
        ),
    )
    install.add_argument("path", metavar="PATH", help="a directory laid out like ../shared/peppol, or a zip of one")
    install.add_argument(
        "--effective-from",
        type=datetime.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day the release is mandatory from (default: the date the pack declares, else today); until "
        "then the pack in force stays, and the portal switches at midnight Europe/Amsterdam by itself",
    )
    install.set_defaults(run=run_install)
    status = actions.add_parser("status", help="Show the active rules pack, its versions and integrity.")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--short", action="store_true", help="one line: the active pack, or what its absence means")
    status.set_defaults(run=run_status)


def run_fetch(options, out, err) -> int:
    mirror, folder = options.get("mirror"), options.get("folder")
    try:
        if folder:
            if not Path(folder).is_dir():
                err.write(f"peppol rules fetch: {folder}: no such folder\n")
                return EXIT_USAGE
            result = install_from_folder(folder, settings.PEPPOL_DATA_DIR, today=amsterdam_today())
        else:
            out.write(f"Downloading {len(PINNED)} files of {RELEASE}...\n")
            result = fetch_pack(
                settings.PEPPOL_DATA_DIR,
                mirror=mirror,
                progress=lambda pinned: out.write(f"  {pinned.path}\n"),
                today=amsterdam_today(),
            )
    except RulesPackError as exc:
        err.write(f"Refused: {exc}\nNothing was installed; the validation rules are as they were.\n")
        if not folder:
            err.write("\n" + download_instructions(mirror) + "\n")
        return EXIT_FAILED
    pack = result.pack
    out.write(f"Installed {pack.label}, UBL {pack.xsd_version} ({len(pack.files)} files, SHA-256 verified)\n")
    out.write(f"  into {pack.root}\n")
    _write_precedence_note(out)
    out.write("Running web and worker processes pick it up with their next validation.\n")
    return EXIT_OK


def _write_precedence_note(out) -> None:
    if settings.PEPPOL_RULES_DIR:
        out.write(
            f"Note: PEPPOL_RULES_DIR is set ({settings.PEPPOL_RULES_DIR}) and takes precedence over installed packs.\n"
        )


def run_install(options, out, err) -> int:
    source = Path(options["path"])
    if not source.exists():
        err.write(f"peppol rules install: {source}: no such file or directory\n")
        return EXIT_USAGE
    try:
        result = install_pack(
            source, settings.PEPPOL_DATA_DIR, today=amsterdam_today(), effective_from=options.get("effective_from")
        )
    except RulesPackError as exc:
        err.write(f"Refused: {exc}\nNothing was installed.\n")
        return EXIT_FAILED
    pack = result.pack
    if result.already_installed:
        out.write(f"Already installed: {pack.label}, UBL {pack.xsd_version} in {pack.root}\n")
    else:
        out.write(f"Installed {pack.label}, UBL {pack.xsd_version} ({len(pack.files)} files, SHA-256 verified)\n")
        out.write(f"  into {pack.root}\n")
    effective = pack.effective_from
    if effective is not None and effective > amsterdam_today():
        out.write(
            f"It is in force from {effective.isoformat()} (00:00 Europe/Amsterdam); until then the pack in force stays.\n"
        )
    else:
        out.write("It is now the current installed pack.\n")
    if result.previous and result.previous.resolve() != pack.root.resolve():
        out.write(f"  (previously: {result.previous.name}; kept, can be reinstalled)\n")
    _write_precedence_note(out)
    out.write("Running web and worker processes pick it up with their next validation.\n")
    return EXIT_OK


NO_PACK_SUMMARY = (
    "No Peppol rules pack is active: invoices are checked for their structure only, NOT against the official "
    "Peppol rules, and every page says so. Fix: .venv/bin/python manage.py peppol rules fetch (needs internet; "
    "README, 'Peppol validation')."
)


def rules_summary(active) -> str:
    """One line for `make run`: the active pack, or what having none means and the command that fixes it."""
    if active.usable:
        return f"Peppol rules: {active.pack.label}, UBL {active.pack.xsd_version} ({active.description})."
    if active.problem:
        return f"The Peppol rules pack ({active.description}) cannot be used: {active.problem}. " + NO_PACK_SUMMARY
    return NO_PACK_SUMMARY


def _status(active, scheduled) -> dict:
    report: dict = {
        "origin": active.origin,
        "path": str(active.path) if active.path else None,
        "require_rules": settings.PEPPOL_REQUIRE_RULES,
        "data_dir": str(settings.PEPPOL_DATA_DIR),
        "installed_current": None,
        "installed_packs": [p.name for p in installed_packs(settings.PEPPOL_DATA_DIR)],
        "label": None,
        "versions": {},
        "files": 0,
        "verified": False,
        "problem": active.problem or None,
        "next": None,
    }
    if scheduled is not None:
        report["next"] = {
            "effective_from": scheduled.effective_from.isoformat(),
            "label": scheduled.pack.label if scheduled.pack is not None else None,
            "path": str(scheduled.path),
        }
    current = installed_pack_dir(settings.PEPPOL_DATA_DIR)
    report["installed_current"] = current.name if current else None
    if active.pack is not None:
        pack = active.pack
        report["label"] = pack.label
        report["versions"] = {**{f"{s}.xslt": pack.version_of(s) for s in STYLESHEETS}, "UBL XSD": pack.xsd_version}
        report["files"] = len(pack.files)
        try:
            verify_pack(pack)
            report["verified"] = True
        except RulesPackError as exc:
            report["problem"] = str(exc)
    return report


def run_status(options, out, err) -> int:
    active = active_rules_pack()
    if options.get("short"):
        out.write(rules_summary(active) + "\n")
        return EXIT_OK if active.usable else EXIT_FAILED
    scheduled = next_rules_pack()
    report = _status(active, scheduled)
    healthy = report["verified"] or (active.pack is None and not active.problem and not report["require_rules"])
    if options.get("json"):
        out.write(json.dumps({**report, "ok": healthy}, indent=2) + "\n")
        return EXIT_OK if healthy else EXIT_FAILED
    if active.path is None:
        out.write("Active rules pack: none: validation does structural checks only (no XSD, no business rules)\n")
    else:
        where = "PEPPOL_RULES_DIR" if active.origin == ORIGIN_SETTING else "installed"
        out.write(f"Active rules pack: {active.path} ({where})\n")
    if active.pack is not None:
        out.write(f"  {report['label']}, UBL {active.pack.xsd_version}\n")
        for name, version in report["versions"].items():
            out.write(f"  {name:<26}{version}\n")
        if report["verified"]:
            out.write(f"  Integrity: all {report['files']} files match their SHA-256\n")
        else:
            out.write(f"  Integrity: FAILED: {report['problem']}\n")
    elif active.problem:
        out.write(f"  Unusable: {active.problem}\n")
    out.write(f"PEPPOL_REQUIRE_RULES: {'yes' if report['require_rules'] else 'no'}\n")
    if not report["installed_packs"]:
        out.write(f"Installed packs in {settings.PEPPOL_DATA_DIR}: none\n")
    else:
        out.write(f"Installed packs in {settings.PEPPOL_DATA_DIR}:\n")
        for name in report["installed_packs"]:
            marker = "  (current)" if name == report["installed_current"] else ""
            out.write(f"  {name}{marker}\n")
    if scheduled is not None:
        out.write(f"Scheduled: {scheduled.note}\n")
    if active.path is None and report["require_rules"]:
        out.write("No rules pack while PEPPOL_REQUIRE_RULES is set: every document is refused and /healthz fails.\n")
    return EXIT_OK if healthy else EXIT_FAILED
