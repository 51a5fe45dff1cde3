"""The parts of the portal whose failure /healthz reports."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from portal.core.encryption import canary_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    degraded: bool = False  # working, but not as it should: /healthz says "degraded" with the detail


def database_check() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason goes to the log
        logger.warning("Health check: database unavailable: %s", exc)
        return CheckResult(False, f"database unavailable ({type(exc).__name__})")
    return CheckResult(True, connection.vendor)


def broker_check() -> CheckResult:
    from portal.celery_app import app

    timeout = settings.HEALTHZ_BROKER_TIMEOUT_SECONDS
    try:
        with app.connection_for_write(connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            transport = conn.transport_cls
    except Exception as exc:
        logger.warning("Health check: broker unavailable: %s", exc)
        return CheckResult(False, f"broker unavailable ({type(exc).__name__})")
    if transport == "filesystem":
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if not os.access(folder, os.W_OK):
            return CheckResult(False, f"broker folder is not writable: {folder}")
    return CheckResult(True, transport)


def encryption_check() -> CheckResult:
    status = canary_status()
    return CheckResult(status.ok, status.message)


def peppol_rules_check() -> CheckResult:
    """Which official Peppol rules pack is active; failing only when none is but PEPPOL_REQUIRE_RULES is set."""
    from portal.core.peppol import rules_health

    try:
        health = rules_health()
    except Exception as exc:
        logger.warning("Health check: Peppol rules pack unreadable: %s", exc)
        return CheckResult(False, f"rules pack unreadable ({type(exc).__name__})")
    return CheckResult(health.ok, health.detail, degraded=health.degraded)


def health_report() -> dict[str, CheckResult]:
    return {
        "database": database_check(),
        "broker": broker_check(),
        "encryption": encryption_check(),
        "peppol_rules": peppol_rules_check(),
    }
