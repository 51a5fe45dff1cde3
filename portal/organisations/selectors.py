from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from portal.organisations.models import CREDENTIAL_FIELDS, Environment, Firm, Organisation


def organisations_for_firm(*, firm: Firm) -> QuerySet[Organisation]:
    environments = Environment.objects.defer(*CREDENTIAL_FIELDS).order_by(
        "afas_environment_type", "afas_participant_number"
    )
    return firm.organisations.prefetch_related(Prefetch("environments", queryset=environments))


def environments_for_firm(*, firm: Firm) -> QuerySet[Environment]:
    """Without the credentials: pages never need them, so they are not even decrypted."""
    return Environment.objects.filter(organisation__firm=firm).select_related("organisation").defer(*CREDENTIAL_FIELDS)
