import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.events.models import Event
from portal.events.services import event_build, event_record, events_record, events_written_together
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def event_inserts(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith('INSERT INTO "events_event"'))


def test_entries_written_together_are_one_insert_when_the_block_ends():
    environment = EnvironmentFactory()

    with CaptureQueriesContext(connection) as queries, events_written_together():
        event_record(environment=environment, kind="settings_changed", message="First.")
        events_record([event_build(environment=environment, kind="settings_changed", message=f"{n}.") for n in (2, 3)])
        assert not Event.objects.filter(environment=environment).exists()  # not yet: at the end

    assert event_inserts(queries.captured_queries) == 1
    assert list(Event.objects.filter(environment=environment).order_by("pk").values_list("message", flat=True)) == [
        "First.",
        "2.",
        "3.",
    ]


def test_entries_written_together_fall_with_their_transaction():
    environment = EnvironmentFactory()

    with pytest.raises(RuntimeError), events_written_together():
        event_record(environment=environment, kind="settings_changed", message="Never happened.")
        raise RuntimeError("the writes failed")

    assert not Event.objects.filter(environment=environment).exists()
    event_record(environment=environment, kind="settings_changed", message="Afterwards.")  # written at once again
    assert Event.objects.filter(environment=environment).count() == 1
