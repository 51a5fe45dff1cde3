from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register

from portal.core.encryption import CanaryState, canary_status


@register(Tags.security)
def encryption_key_fits_stored_credentials(app_configs, **kwargs):
    status = canary_status()
    if status.state is CanaryState.WRONG_KEY:
        return [Error(status.message, id="portal.E001")]
    if status.state is CanaryState.MISSING:
        return [Warning(status.message, id="portal.W001")]
    return []
