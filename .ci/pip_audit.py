"""The dependency audit of CI: fail on a known vulnerability that has a fixed version, report those without one.

Runs pip-audit on the installed virtualenv (the project itself, installed editable and not on PyPI, is skipped) and
decides from its JSON report:

- a vulnerability with a fix version          -> FAILED, naming the package, the advisory and the fixing version;
- a vulnerability without any fix              -> listed, does not fail (nothing to upgrade to);
- dependencies pip-audit could not look up, or no answer from the vulnerability service at all
                                               -> NOT AUDITED: fails unless PIP_AUDIT_WHEN_UNREACHABLE=warn.

Usage: python .ci/pip_audit.py [--report FILE]   (--report reads a saved pip-audit JSON report instead of running it)
Environment: PIP_AUDIT (the pip-audit command, default .venv/bin/pip-audit), PIP_AUDIT_SERVICE (pypi or osv, default
pypi), PIP_AUDIT_WHEN_UNREACHABLE (fail or warn, default fail).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def run_pip_audit() -> tuple[dict | None, str]:
    command = os.environ.get("PIP_AUDIT", ".venv/bin/pip-audit")
    service = os.environ.get("PIP_AUDIT_SERVICE", "pypi")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        result = subprocess.run(
            [command, "--skip-editable", "--progress-spinner", "off", "--vulnerability-service", service]
            + ["--format", "json", "--output", str(report), "--desc", "off", "--timeout", "30"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        text = report.read_text() if report.exists() else ""
    try:
        return json.loads(text), result.stderr
    except json.JSONDecodeError:
        return None, result.stderr or result.stdout


def verdict(report: dict) -> tuple[list[str], list[str], list[str], int]:
    """(fixable, unfixable, unaudited, audited count) from a pip-audit JSON report."""
    fixable, unfixable, unaudited, audited = [], [], [], 0
    for dependency in report.get("dependencies", []):
        name, version = dependency.get("name", "?"), dependency.get("version", "?")
        if dependency.get("skip_reason"):
            unaudited.append(f"{name}: {dependency['skip_reason']}")
            continue
        audited += 1
        for vulnerability in dependency.get("vulns", []):
            ids = ", ".join([vulnerability.get("id", "?"), *vulnerability.get("aliases", [])])
            if vulnerability.get("fix_versions"):
                fixable.append(f"{name} {version}: {ids}; fixed in {', '.join(vulnerability['fix_versions'])}")
            else:
                unfixable.append(f"{name} {version}: {ids}; no fixed version yet")
    return fixable, unfixable, unaudited, audited


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a saved pip-audit JSON report to judge instead of running it")
    args = parser.parse_args(argv)
    when_unreachable = os.environ.get("PIP_AUDIT_WHEN_UNREACHABLE", "fail")

    if args.report:
        report, errors = json.loads(args.report.read_text()), ""
    else:
        report, errors = run_pip_audit()
    if report is None:
        print("pip-audit gave no report: the vulnerability service could not be reached.", file=sys.stderr)
        print("\n".join(errors.strip().splitlines()[-5:]), file=sys.stderr)
        return not_audited(when_unreachable, "no report")

    fixable, unfixable, unaudited, audited = verdict(report)
    print(f"pip-audit: {audited} dependencies audited, {len(unaudited)} could not be looked up.")
    for line in unfixable:
        print(f"  known vulnerability without a fix (not failing): {line}")
    if fixable:
        print("FAILED: installed dependencies with a known vulnerability that a newer version fixes:", file=sys.stderr)
        for line in fixable:
            print(f"  {line}", file=sys.stderr)
        print("Raise the lower bound in pyproject.toml to the fixed version.", file=sys.stderr)
        return 1
    if unaudited:
        for line in unaudited[:5]:
            print(f"  not audited: {line}", file=sys.stderr)
        if len(unaudited) > 5:
            print(f"  ... and {len(unaudited) - 5} more", file=sys.stderr)
        return not_audited(when_unreachable, f"{len(unaudited)} of {len(unaudited) + audited} dependencies")
    print("pip-audit: no known vulnerability with a fix available.")
    return 0


def not_audited(when_unreachable: str, what: str) -> int:
    message = (
        f"NOT AUDITED ({what}): the vulnerability service (PyPI's JSON API per version, or OSV with "
        "PIP_AUDIT_SERVICE=osv) did not answer for them, so known vulnerabilities cannot be ruled out."
    )
    if when_unreachable == "warn":
        print(f"WARNING: {message} Continuing because PIP_AUDIT_WHEN_UNREACHABLE=warn.", file=sys.stderr)
        return 0
    print(f"FAILED: {message} Set PIP_AUDIT_WHEN_UNREACHABLE=warn to continue without the audit.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
