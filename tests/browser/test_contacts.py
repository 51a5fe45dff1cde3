"""The contacts page: a bulk "check all in the Peppol directory", its progress followed live on the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.contacts import lookups, services
from portal.contacts.models import Contact, ContactJob
from tests.browser.conftest import NoReload


@pytest.fixture
def queued_jobs(settings):
    """Bulk-job chunks go to the broker instead of running inside the request; the test is the worker."""
    from portal.celery_app import app

    before = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.control.purge()
        app.conf.task_always_eager = before


def test_check_all_shows_the_jobs_progress_live_until_it_is_done(
    world, context, page, shots, settings, monkeypatch, queued_jobs
):
    environment = world.demo_environment()
    settings.CONTACT_JOB_CHUNK_SECONDS = 0  # one batch per chunk
    monkeypatch.setattr(lookups, "LOOKUP_BATCH", 5)  # the demo's 15 customers in three chunks
    with world.exclusive():
        services.contacts_sync(environment=environment, full=True)  # what beat does: read the debtors from AFAS
        customers = Contact.objects.filter(
            environment=environment, kind=Contact.Kind.DEBTOR, afas_state=Contact.AfasState.ACTIVE
        ).count()
    assert customers > 0
    world.log_in(context, world.demo_user())

    page.goto(world.url("web:environment_contacts", environment.pk))
    expect(page.get_by_role("heading", name="Customers and Peppol readiness", level=1)).to_be_visible()
    before = page.get_by_role("row", name=re.compile("^Not checked yet"))
    expect(before.get_by_role("cell")).not_to_have_text("0")  # the sync found them; no lookup has run yet
    shots.take("contacts page", both=True)
    page.get_by_role("button", name="Check all in the Peppol directory").click()

    # The job's page: started, nothing done yet (no worker has run a chunk).
    expect(page.get_by_role("heading", name="Check all customers in the Peppol directory", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Started for {customers} customer")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_role("main")).to_contain_text(f"0 of {customers} (0%)")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    shots.take("job started", both=True)
    same_page = NoReload(page)

    with world.exclusive():  # the worker runs the first chunk
        job = ContactJob.objects.get(environment=environment)
        assert lookups.contact_job_run_chunk(job_id=job.pk) == 0  # more to do
        job.refresh_from_db()
    assert 0 < job.processed < customers

    expect(page.get_by_role("main")).to_contain_text(f"{job.processed} of {customers} ({job.percent}%)")
    expect(progress).to_have_attribute("value", str(job.percent))
    shots.take("job halfway")

    with world.exclusive():  # and the rest
        for _ in range(customers):
            if lookups.contact_job_run_chunk(job_id=job.pk) is None:
                break
        job.refresh_from_db()
    assert job.state == ContactJob.State.DONE

    expect(page.get_by_role("main")).to_contain_text(f"{customers} of {customers} (100%)")
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_role("main")).to_contain_text("Done")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)  # removed with the last poll
    same_page.check()
    shots.take("job done", both=True)
    polls = page.locator("[hx-trigger]")
    expect(polls).to_have_count(0)  # the finished job's fragment no longer polls

    # Back on the contacts page the job is listed as done, and the customers have their outcome.
    page.get_by_role("link", name=re.compile("Customers of")).click()
    jobs = page.get_by_role("table", name="Latest bulk jobs")
    expect(jobs.get_by_role("row").filter(has_text="Check all customers")).to_contain_text("Done")
    expect(page.get_by_role("row", name=re.compile("^Not checked yet")).get_by_role("cell")).to_have_text("0")
    shots.take("contacts after the job", both=True)
