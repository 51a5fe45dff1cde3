from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import User
from portal.events.services import event_record
from portal.organisations.models import Environment

CREDENTIAL_LABELS = {
    "afas_token": "AFAS token",
    "econnect_app_key": "eConnect App Key",
    "econnect_app_secret": "eConnect Secret",
}


# No @transaction.atomic here: its wrapper frame would hold the secrets where error reports show them.
@sensitive_variables("afas_token", "econnect_app_key", "econnect_app_secret", "new_values")
def environment_set_credentials(
    *,
    environment: Environment,
    actor: User | None,
    afas_token: str | None = None,
    econnect_app_key: str | None = None,
    econnect_app_secret: str | None = None,
) -> list[str]:
    """Replace the credentials that are given (None leaves one unchanged, "" clears it).

    Returns the names of the credentials that changed. The values never leave this function:
    the timeline records which credential changed, not what it became.
    """
    new_values = {
        "afas_token": afas_token,
        "econnect_app_key": econnect_app_key,
        "econnect_app_secret": econnect_app_secret,
    }
    changed = [name for name, value in new_values.items() if value is not None]
    if not changed:
        return []
    with transaction.atomic():
        environment = Environment.objects.select_for_update().get(pk=environment.pk)
        now = timezone.now()
        for name in changed:
            setattr(environment, name, new_values[name].strip())
        update_fields = [*changed, "updated_at"]
        if "afas_token" in changed:
            environment.afas_token_set_at = now if environment.afas_token else None
            update_fields.append("afas_token_set_at")
        if {"econnect_app_key", "econnect_app_secret"} & set(changed):
            both_set = bool(environment.econnect_app_key and environment.econnect_app_secret)
            environment.econnect_keys_set_at = now if both_set else None
            update_fields.append("econnect_keys_set_at")
        environment.save(update_fields=update_fields)
        described = ", ".join(
            f"{CREDENTIAL_LABELS[name]} {'replaced' if new_values[name].strip() else 'cleared'}" for name in changed
        )
        event_record(
            environment=environment,
            actor=actor,
            kind="credentials_changed",
            message=f"Credentials changed: {described}.",
            data={"changed": changed},
        )
        return changed
