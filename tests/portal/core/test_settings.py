"""Settings are read once per process, so these start a fresh Python process for each configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from portal import devkeys

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def production_env(tmp_path, **overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY="x" * 60 + "-production-like-secret-key",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="portal.example.nl",
        PORTAL_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ECONNECT_SUBSCRIPTION_KEY="given-by-econnect",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run_manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    result = run_manage(production_env(tmp_path, **{missing: None}), "check")

    assert result.returncode != 0
    assert "DEBUG is off, so the portal will not start without its secrets" in result.stderr
    assert f"Set {missing}" in result.stderr


def test_production_refuses_an_empty_secret(tmp_path):
    result = run_manage(production_env(tmp_path, SECRET_KEY=""), "check")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_a_malformed_encryption_key_is_refused_with_a_clear_message(tmp_path):
    result = run_manage(production_env(tmp_path, FIELD_ENCRYPTION_KEY="not-a-fernet-key"), "check")

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY defined incorrectly" in result.stderr


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_generates_its_keys_once_into_var(tmp_path):
    env = production_env(tmp_path, DEBUG="true", SECRET_KEY=None, FIELD_ENCRYPTION_KEY=None)
    print_keys = [
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.FIELD_ENCRYPTION_KEY[0])",
    ]

    first = run_manage(env, *print_keys)
    second = run_manage(env, *print_keys)

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (tmp_path / "field_encryption_key").read_text().strip() == first.stdout.strip()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_several_encryption_keys_rotate(tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = production_env(tmp_path, FIELD_ENCRYPTION_KEY=f"{new}, {old}")

    result = run_manage(
        env, "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.FIELD_ENCRYPTION_KEY)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str([new, old])


def test_read_or_create_keeps_an_existing_key(tmp_path):
    key_file = tmp_path / "key"

    first = devkeys.read_or_create(key_file, devkeys.generate_fernet_key)
    second = devkeys.read_or_create(key_file, devkeys.generate_fernet_key)

    assert first == second
    Fernet(first.encode())  # a usable key
    assert [path.name for path in tmp_path.iterdir()] == ["key"]  # no temporary files left behind


def test_check_deploy_warns_about_a_missing_econnect_subscription_key(tmp_path):
    result = run_manage(
        production_env(tmp_path, ECONNECT_SUBSCRIPTION_KEY=None), "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 1 and "portal.W002" in result.stdout + result.stderr


def test_the_outgoing_retry_names_of_earlier_releases_still_work(tmp_path):
    env = production_env(tmp_path, OUTGOING_MAX_ATTEMPTS="3", DOCUMENT_MAX_ATTEMPTS=None)
    show = ["shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DOCUMENT_MAX_ATTEMPTS)"]

    assert run_manage(env, *show).stdout.strip() == "3"
    assert run_manage({**env, "DOCUMENT_MAX_ATTEMPTS": "5"}, *show).stdout.strip() == "5"
