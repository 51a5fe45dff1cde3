"""Thin tasks: call one service."""

from __future__ import annotations

from celery import shared_task

from portal.organisations import routes


@shared_task(name="organisations.check_routes")
def check_routes() -> int:
    checked, _failed = routes.routes_check_due()
    return checked
