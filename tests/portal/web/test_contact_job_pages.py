from urllib.parse import urlencode

import pytest
from django.urls import reverse

from portal.contacts.models import ContactJob
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="Own Client B.V."))


def progress_url(job, **params) -> str:
    url = reverse("web:contact_job_progress", args=[job.pk])
    return f"{url}?{urlencode(params)}" if params else url


def test_a_running_jobs_page_polls_its_progress_and_offers_cancel(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.WRITE_BACK, total=4, processed=1)

    page = accountant_client.get(reverse("web:contact_job_detail", args=[job.pk])).content.decode()

    assert 'http-equiv="refresh"' not in page
    assert f'hx-get="{progress_url(job, detail=1)}" hx-trigger="every 2s"' in page
    assert '<div aria-live="polite">' in page
    assert "1 of 4 (25%)" in page
    assert "Cancel</button>" in page
    # Without JavaScript the fragment offers a link to the page instead.
    assert f'<noscript><a href="{reverse("web:contact_job_detail", args=[job.pk])}">' in page


def test_a_finished_jobs_page_does_not_poll(accountant_client, environment):
    job = ContactJob.objects.create(
        environment=environment, kind=ContactJob.Kind.LOOKUP, state=ContactJob.State.DONE, total=4, processed=4
    )

    page = accountant_client.get(reverse("web:contact_job_detail", args=[job.pk])).content.decode()

    assert "hx-trigger" not in page
    assert "Cancel</button>" not in page


def test_the_contacts_page_polls_a_running_jobs_progress(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=8, processed=2)

    page = accountant_client.get(reverse("web:environment_contacts", args=[environment.pk])).content.decode()

    assert f'hx-get="{progress_url(job)}" hx-trigger="every 2s"' in page


def test_the_progress_fragment_keeps_polling_while_the_job_runs(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=8, processed=6)

    response = accountant_client.get(progress_url(job, detail=1), HTTP_HX_REQUEST="true")

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "6 of 8 (75%)" in fragment
    assert "Running" in fragment


@pytest.mark.parametrize("state", [ContactJob.State.DONE, ContactJob.State.FAILED, ContactJob.State.CANCELLED])
def test_the_progress_fragment_of_a_job_that_is_over_stops_polling(accountant_client, environment, state):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, state=state, total=8)

    fragment = accountant_client.get(progress_url(job), HTTP_HX_REQUEST="true").content.decode()

    assert "hx-trigger" not in fragment
    assert "hx-get" not in fragment
    assert str(ContactJob.State(state).label) in fragment
    assert reverse("web:environment_contacts", args=[environment.pk]) in fragment  # reload for the new results


def test_the_finished_detail_fragment_removes_the_cancel_button(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, state="done", total=8)

    fragment = accountant_client.get(progress_url(job, detail=1), HTTP_HX_REQUEST="true").content.decode()

    assert f'<div id="job-{job.pk}-cancel" hx-swap-oob="true"></div>' in fragment


def test_the_progress_fragment_without_htmx_leads_to_the_jobs_page(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=8)

    response = accountant_client.get(progress_url(job))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:contact_job_detail", args=[job.pk])


def test_viewers_may_follow_a_jobs_progress(viewer_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=8, processed=4)

    response = viewer_client.get(progress_url(job), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "4 of 8 (50%)" in response.content.decode()


def test_cancel_stops_a_running_job(accountant_client, environment):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=4)

    response = accountant_client.post(reverse("web:contact_job_cancel", args=[job.pk]))

    job.refresh_from_db()
    assert job.state == ContactJob.State.CANCELLED
    assert response["Location"] == reverse("web:contact_job_detail", args=[job.pk])


# --- CSV downloads ---------------------------------------------------------------------------------------------------
