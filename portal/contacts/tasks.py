"""Thin tasks: load by id, call one service."""

from __future__ import annotations

from celery import shared_task

from portal.contacts import lookups, services
from portal.organisations.models import Environment


@shared_task(name="contacts.dispatch_syncs")
def dispatch_syncs() -> int:
    environment_ids = services.contacts_dispatch_syncs()
    for environment_id in environment_ids:
        sync.delay(environment_id)
    return len(environment_ids)


@shared_task(name="contacts.sync")
def sync(environment_id: int, full: bool | None = None) -> None:
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is None:
        return
    result = services.contacts_sync(environment=environment, full=full)
    if result is not None and (result.debtors.created or result.debtors.identifiers_changed):
        look_up_due.delay()  # new or changed identifiers: look them up now, not at the next beat


@shared_task(name="contacts.look_up_due")
def look_up_due() -> int:
    return lookups.contacts_look_up_due()


@shared_task(name="contacts.job_chunk")
def job_chunk(job_id: int) -> None:
    lookups.contact_job_continue(job_id=job_id)


@shared_task(name="contacts.resume_jobs")
def resume_jobs() -> int:
    return len(lookups.contact_jobs_resume_stalled())
