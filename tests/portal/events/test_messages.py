import datetime
import re
from decimal import Decimal

import pytest
from django.utils import translation

from integrations.peppol.i18n import Text
from portal.events.catalogue import CATALOGUE, SYSTEM_ACTORS
from portal.events.messages import Bilingual, Choice, Join, Msg, When, actor_label, render_data
from portal.events.services import event_record
from portal.outgoing_invoices.models import OutgoingStatus
from tests.portal.organisations.factories import EnvironmentFactory


def test_an_unknown_key_is_refused_when_the_message_is_made():
    with pytest.raises(KeyError):
        Msg("outgoing.no_such_message")


def test_a_missing_parameter_is_refused_when_the_message_is_made():
    with pytest.raises(KeyError):
        Msg("outgoing.accepted")


def test_a_translated_string_cannot_be_stored_as_a_parameter():
    with translation.override("nl"):
        frozen = CATALOGUE["incoming.ready"]
        with pytest.raises(TypeError):
            Msg("outgoing.accepted", document_id=frozen).as_data()


def test_a_message_renders_in_the_language_of_whoever_reads_it():
    message = Msg("outgoing.accepted", document_id="XCN1")

    assert message.english() == "Accepted by eConnect as XCN1."
    with translation.override("nl"):
        assert message.render() == "Geaccepteerd door eConnect als XCN1."


def test_nested_messages_choices_dates_texts_and_joins_survive_storage_and_render_per_language():
    message = Msg(
        "outgoing.not_on_peppol",
        explanation=Join(
            [
                Msg("outgoing.recipient.entry", identifier="0106:1", outcome=Msg("outgoing.recipient.not_registered")),
                Msg(
                    "outgoing.recipient.entry",
                    identifier="9944:NL1",
                    outcome=Msg("outgoing.recipient.invalid", reason=Bilingual.of(Text("too short", "te kort"))),
                ),
            ],
            "; ",
        ),
    )
    stored = Msg.from_data(message.as_data())

    assert stored.english() == message.english()
    assert "0106:1: not registered on Peppol; 9944:NL1: invalid: too short" in stored.english()
    with translation.override("nl"):
        dutch = stored.render()
    assert "niet geregistreerd op Peppol" in dutch and "te kort" in dutch and "not registered" not in dutch


def test_choice_labels_follow_the_language():
    label = Choice(OutgoingStatus, "needs_attention")
    assert label.render() == "Needs attention"
    with translation.override("nl"):
        assert label.render() != "Needs attention"


def test_dates_follow_the_language_and_are_never_us_style():
    day = When(datetime.date(2026, 12, 6), "date")
    assert day.render() == "6 Dec 2026"
    with translation.override("nl"):
        assert day.render() == "6 december 2026"


def test_amounts_get_a_decimal_comma_in_dutch():
    message = Msg("outgoing.stale", hours=Decimal("1234.5"))
    assert "1,234.50" in message.english()
    with translation.override("nl"):
        assert "1.234,50" in message.render()


def test_data_without_a_known_key_shows_the_stored_text():
    assert render_data({}, "Written before message keys.") == "Written before message keys."
    assert render_data({"key": "retired.key", "params": {}}, "Old wording.") == "Old wording."
    assert render_data({"key": "outgoing.accepted", "params": {}}, "Parameters lost.") == "Parameters lost."


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_message_of_the_catalogue_renders_in_dutch(key):
    names = set(re.findall(r"%\((\w+)\)s", str(CATALOGUE[key])))
    message = Msg(key, **{name: "X" for name in names})
    with translation.override("nl"):
        message.render()


def test_the_dutch_catalogue_translates_the_timeline_messages():
    untranslated = []
    for key, template in CATALOGUE.items():
        english = str(template)
        with translation.override("nl"):
            dutch = str(template)
        if dutch == english and re.search(r"[a-z]{3,} [a-z]{3,}", english):
            untranslated.append(key)
    assert untranslated == []


def test_system_actors_are_named_in_the_readers_language():
    assert actor_label("sending") == "sending"
    with translation.override("nl"):
        assert actor_label("sending") == str(SYSTEM_ACTORS["sending"]) != "sending"
    assert actor_label("some new part") == "some new part"


@pytest.mark.django_db
def test_an_event_keeps_english_for_the_audit_trail_and_shows_the_readers_language():
    event = event_record(
        environment=EnvironmentFactory(),
        kind="status_changed",
        message=Msg("incoming.acknowledged"),
        system_actor="acknowledge",
    )
    event.refresh_from_db()

    assert event.message == "Marked as processed at eConnect."
    with translation.override("nl"):
        assert event.text == "Gemarkeerd als verwerkt bij eConnect."
        assert event.actor_label == "bevestigen"
