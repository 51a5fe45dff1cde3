import pytest
from django.db import IntegrityError
from django.db.models import ProtectedError

from portal.events.models import AppendOnlyError, Event
from portal.events.services import event_record
from tests.portal.accounts.factories import UserFactory
from tests.portal.contacts.factories import ContactFactory
from tests.portal.organisations.factories import EnvironmentFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return event_record(environment=EnvironmentFactory(), kind="settings_changed", message="Something happened.")


def test_an_event_cannot_be_changed(event):
    event.message = "Rewritten history"

    with pytest.raises(AppendOnlyError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_events_cannot_be_changed_or_deleted_in_bulk(event):
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()


def test_an_environment_with_history_cannot_be_deleted(event):
    with pytest.raises(ProtectedError):
        event.environment.delete()


def test_a_person_acting_is_recorded_by_name():
    user = UserFactory(username="anna")

    event = event_record(
        environment=EnvironmentFactory(), kind="settings_changed", message="m", actor=user, reason="Checked"
    )

    assert (event.actor_type, event.actor_name, event.reason) == (Event.ActorType.USER, "anna", "Checked")


def test_a_system_actor_is_named():
    event = event_record(
        environment=EnvironmentFactory(), kind="settings_changed", message="m", system_actor="beat:collect"
    )

    assert (event.actor_type, event.actor, event.actor_name) == (Event.ActorType.SYSTEM, None, "beat:collect")


def test_an_event_is_about_one_document_at_most():
    invoice = OutgoingInvoiceFactory()

    with pytest.raises(IntegrityError):
        event_record(
            environment=invoice.environment,
            kind="settings_changed",
            message="m",
            outgoing_invoice=invoice,
            contact=ContactFactory(environment=invoice.environment),
        )


def test_a_user_event_without_a_user_is_refused():
    with pytest.raises(IntegrityError):
        Event.objects.create(
            environment=EnvironmentFactory(), actor_type=Event.ActorType.USER, actor_name="x", kind="k", message="m"
        )


def test_an_event_names_its_time_in_dutch_local_time(event):
    from datetime import UTC, datetime

    event.created_at = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)

    assert str(event) == "2026-01-15 09:30 settings_changed"


def test_an_event_kind_outside_the_list_is_refused():
    from portal.events.models import EventKind

    environment = EnvironmentFactory()

    with pytest.raises(ValueError):
        event_record(environment=environment, kind="something_new", message="x")
    recorded = event_record(environment=environment, kind=EventKind.SETTINGS_CHANGED, message="x")
    assert recorded.kind == "settings_changed" and recorded.get_kind_display() == "Settings changed"


def test_every_event_kind_reads_in_dutch():
    from django.utils import translation

    from portal.events.models import EventKind

    with translation.override("en"):
        english = {kind.value: str(kind.label) for kind in EventKind}
    with translation.override("nl"):
        untranslated = [kind.value for kind in EventKind if str(kind.label) == english[kind.value]]

    assert untranslated == []
