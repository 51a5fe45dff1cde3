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


@register(Tags.security, deploy=True)
def econnect_subscription_key_set(app_configs, **kwargs):
    """eConnect's SOAP endpoint refuses every call without the subscription key (soap-notes.md section 1)."""
    from django.conf import settings

    if settings.ECONNECT_SUBSCRIPTION_KEY or "subscriptionKey=" in settings.ECONNECT_SOAP_URL:
        return []
    return [
        Warning(
            "ECONNECT_SUBSCRIPTION_KEY is empty: eConnect refuses every SOAP call without its subscription key.",
            hint="Set ECONNECT_SUBSCRIPTION_KEY to the key eConnect gave with the connection.",
            id="portal.W002",
        )
    ]
