"""The CI dependency audit's decision (.ci/pip_audit.py), judged on saved pip-audit JSON reports."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("pip_audit_gate", ROOT / ".ci" / "pip_audit.py")
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)


def judge(tmp_path, monkeypatch, dependencies, *, when_unreachable="fail") -> int:
    monkeypatch.setenv("PIP_AUDIT_WHEN_UNREACHABLE", when_unreachable)
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    return gate.main(["--report", str(report)])


def vulnerable(name, version, *fix_versions):
    vuln = {"id": "PYSEC-2099-1", "fix_versions": list(fix_versions), "aliases": ["CVE-2099-1"]}
    return {"name": name, "version": version, "vulns": [vuln]}


def test_a_vulnerability_with_a_fix_fails_and_names_the_fixed_version(tmp_path, monkeypatch, capsys):
    assert (
        judge(
            tmp_path,
            monkeypatch,
            [
                vulnerable("django", "5.2.1", "5.2.2"),
                vulnerable(
                    "lxml",
                    "5.3",
                ),
            ],
        )
        == 1
    )

    err = capsys.readouterr().err
    assert "django 5.2.1: PYSEC-2099-1, CVE-2099-1; fixed in 5.2.2" in err
    assert "lxml" not in err


def test_a_vulnerability_without_a_fix_is_listed_but_passes(tmp_path, monkeypatch, capsys):
    assert (
        judge(tmp_path, monkeypatch, [vulnerable("lxml", "5.3"), {"name": "httpx", "version": "0.28", "vulns": []}])
        == 0
    )

    assert "without a fix (not failing): lxml 5.3" in capsys.readouterr().out


@pytest.mark.parametrize("when_unreachable, code", [("fail", 2), ("warn", 0)])
def test_dependencies_that_could_not_be_looked_up_are_not_a_pass(tmp_path, monkeypatch, capsys, when_unreachable, code):
    skipped = {"name": "amqp", "skip_reason": "Dependency not found on PyPI and could not be audited: amqp (5.4.2)"}

    assert judge(tmp_path, monkeypatch, [skipped], when_unreachable=when_unreachable) == code
    assert "NOT AUDITED (1 of 1 dependencies)" in capsys.readouterr().err
