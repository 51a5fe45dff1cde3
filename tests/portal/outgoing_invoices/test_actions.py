"""People's actions on the outbox: admin actions, the environment page's test invoice, the schedules."""

import pytest
from django.urls import reverse

from portal.accounts.models import Membership
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.accounts.factories import MembershipFactory, UserFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

Status = OutgoingInvoice.Status


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="sam"))
    return client


def admin_action(client, action, invoices, reason=""):
    return client.post(
        reverse("admin:outgoing_invoices_outgoinginvoice_changelist"),
        {"action": action, "_selected_action": [invoice.pk for invoice in invoices], "reason": reason},
        follow=True,
    )


def test_support_marks_invoices_resolved_with_a_reason_in_the_timeline(staff_client):
    invoice = OutgoingInvoiceFactory(status=Status.NEEDS_ATTENTION)

    admin_action(staff_client, "resolve_manually", [invoice], reason="Customer paid by bank transfer")

    invoice.refresh_from_db()
    event = invoice.events.get(to_status=Status.RESOLVED_MANUALLY)
    assert invoice.status == Status.RESOLVED_MANUALLY
    assert (event.actor.username, event.reason) == ("sam", "Customer paid by bank transfer")


def test_resolving_without_a_reason_is_refused(staff_client):
    invoice = OutgoingInvoiceFactory(status=Status.NEEDS_ATTENTION)

    response = admin_action(staff_client, "resolve_manually", [invoice])

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert "Give the reason" in response.content.decode()


def test_resolving_an_invoice_that_cannot_be_resolved_says_which_and_why(staff_client):
    delivered = OutgoingInvoiceFactory(
        status=Status.DELIVERED, invoice_number="F-2026-7", submission_reference="ref-f-2026-7"
    )

    response = admin_action(staff_client, "resolve_manually", [delivered], reason="Paid")

    page = response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == Status.DELIVERED
    assert "0 invoice(s) marked as resolved manually." in page
    assert "1 invoice(s) not changed: F-2026-7 (Delivered)" in page
    assert "Needs attention" in page  # the statuses that can be resolved


def test_support_retries_an_invoice_that_needs_attention(staff_client, django_capture_on_commit_callbacks, monkeypatch):
    prepared = []
    monkeypatch.setattr("portal.outgoing_invoices.tasks.prepare.delay", prepared.append)
    invoice = OutgoingInvoiceFactory(status=Status.NEEDS_ATTENTION)

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(staff_client, "retry_now", [invoice], reason="Customer's KvK fixed in AFAS")

    invoice.refresh_from_db()
    assert invoice.status == Status.NEW
    assert prepared == [invoice.pk]


def test_retry_skips_invoices_that_are_fine(staff_client):
    invoice = OutgoingInvoiceFactory(status=Status.DELIVERED, submission_reference="abcdef123456")

    response = admin_action(staff_client, "retry_now", [invoice])

    invoice.refresh_from_db()
    assert invoice.status == Status.DELIVERED
    assert "1 invoice(s) skipped" in response.content.decode()


def test_a_retry_after_a_send_keeps_the_reference_so_nothing_is_sent_twice(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.outgoing_invoices.services import outgoing_retry

    submitted = []
    monkeypatch.setattr("portal.outgoing_invoices.tasks.submit.delay", submitted.append)
    invoice = OutgoingInvoiceFactory(status=Status.FAILED, submission_reference="keep-this-ref")

    with django_capture_on_commit_callbacks(execute=True):
        outgoing_retry(invoice=invoice, actor=UserFactory())

    invoice.refresh_from_db()
    assert (invoice.status, invoice.submission_reference) == (Status.READY, "keep-this-ref")
    assert submitted == [invoice.pk]


@pytest.mark.parametrize("role, expected", [(Membership.Role.ACCOUNTANT, 302), (Membership.Role.VIEWER, 403)])
def test_only_accountants_send_test_invoices_from_the_environment_page(client, db, role, expected, monkeypatch):
    from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, OwnPeppolIdentifierFactory

    sent = []
    monkeypatch.setattr(
        "portal.web.views.environments.outgoing_send_test_invoice",
        lambda environment, actor: sent.append(environment) or OutgoingInvoiceFactory.build(invoice_number="TEST-1"),
    )
    membership = MembershipFactory(role=role)
    environment = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
    OwnPeppolIdentifierFactory(environment=environment)
    client.force_login(membership.user)

    response = client.post(reverse("web:environment_send_test_invoice", args=[environment.pk]))

    assert response.status_code == expected
    assert len(sent) == (1 if expected == 302 else 0)


def test_another_firms_environment_cannot_be_sent_a_test_invoice(accountant_client, db):
    from tests.portal.organisations.factories import EnvironmentFactory

    other = EnvironmentFactory()

    response = accountant_client.post(reverse("web:environment_send_test_invoice", args=[other.pk]))

    assert response.status_code == 404


def test_the_environment_page_shows_its_outbox(accountant_client, membership):
    from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

    environment = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
    OutgoingInvoiceFactory(
        environment=environment,
        invoice_number="F-2026-77",
        status=Status.RETRY_WAIT,
        submission_reference="r" * 12,
        last_error_message="eConnect is busy",
    )

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert "F-2026-77" in page
    assert "Waiting to retry" in page
    assert "eConnect is busy" in page


def test_beat_schedules_are_defined_in_code(db):
    from django_celery_beat.models import PeriodicTask

    from portal.core.schedules import periodic_tasks_sync

    periodic_tasks_sync()
    periodic_tasks_sync()

    tasks = dict(PeriodicTask.objects.filter(name__startswith="portal: ").values_list("task", "interval__every"))
    assert tasks == {
        "outgoing.dispatch_collects": 5,  # a poll starts within 5 s of its interval
        "outgoing.work_due": 15,
        "outgoing.sweep": 60,
        "incoming.dispatch_fetches": 5,
        "incoming.work_due": 15,
        "incoming.sweep": 60,
        "webhooks.work_due": 60,
        "contacts.dispatch_syncs": 60,
        "contacts.look_up_due": 60,
        "contacts.resume_jobs": 60,
        "organisations.check_routes": 60,
        "reconciliation.dispatch": 600,
        "documents.expire": 86400,
    }


def test_the_dispatch_task_enqueues_one_collect_per_due_environment(db, monkeypatch):
    from portal.outgoing_invoices import tasks
    from tests.portal.organisations.factories import EnvironmentFactory

    collected = []
    monkeypatch.setattr(tasks.collect, "delay", collected.append)
    on = EnvironmentFactory(sending_enabled=True)
    EnvironmentFactory(sending_enabled=False)

    assert tasks.dispatch_collects() == 1
    assert collected == [on.pk]


def test_the_admin_outbox_filters_by_time_in_status(staff_client):
    from datetime import timedelta

    from django.utils import timezone

    old = OutgoingInvoiceFactory(invoice_number="OLD-1", status=Status.NEEDS_ATTENTION)
    OutgoingInvoice.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(days=2))
    OutgoingInvoiceFactory(invoice_number="NEW-1", status=Status.NEEDS_ATTENTION)

    page = staff_client.get(reverse("admin:outgoing_invoices_outgoinginvoice_changelist") + "?age=1d").content.decode()

    assert "OLD-1" in page
    assert "NEW-1" not in page


def test_due_work_is_queued_once_until_it_is_done_or_its_lease_runs_out(db, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from portal.outgoing_invoices import tasks

    queued = []
    monkeypatch.setattr(tasks.submit, "delay", queued.append)
    invoice = OutgoingInvoiceFactory(status=Status.READY, next_attempt_at=timezone.now())

    tasks.work_due()
    tasks.work_due()
    assert queued == [invoice.pk]

    OutgoingInvoice.objects.filter(pk=invoice.pk).update(dispatched_at=timezone.now() - timedelta(minutes=6))
    tasks.work_due()
    assert queued == [invoice.pk, invoice.pk]  # the first message was lost: queued again after the lease
