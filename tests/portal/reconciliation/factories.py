import factory
from django.utils import timezone

from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun
from tests.portal.organisations.factories import EnvironmentFactory


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReconciliationRun

    environment = factory.SubFactory(EnvironmentFactory)
    trigger = ReconciliationRun.Trigger.MANUAL
    status = ReconciliationRun.Status.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReconciliationFinding

    environment = factory.SubFactory(EnvironmentFactory)
    kind = ReconciliationFinding.Kind.UNSEEN_INBOX
    key = factory.Sequence(lambda n: f"inbox:XCNIN{9000 + n}")
    econnect_document_id = factory.LazyAttribute(lambda finding: finding.key.partition(":")[2])
    document_at = factory.LazyFunction(timezone.now)
    details = factory.LazyAttribute(lambda finding: {"subject": "Factuur X-1", "econnect_state": "new"})
    last_seen_at = factory.LazyFunction(timezone.now)
