import factory

from portal.webhooks.models import WebhookEvent
from tests.portal.organisations.factories import EnvironmentFactory


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    environment = factory.SubFactory(EnvironmentFactory)
    topic = "InvoiceReceived"
    document_id = factory.Sequence(lambda n: f"0b6f5a8e-6a52-4d3c-9d0e-{n:012d}")
    event_key = factory.LazyAttribute(lambda event: f"{event.topic}|{event.document_id}|2026-12-06T10:00:00+00:00")
    body = b'{"topic": "InvoiceReceived"}'
