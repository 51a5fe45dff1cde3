"""The endpoint eConnect PSB posts webhook events to: one per environment, behind an unguessable path token."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.afas import webhooks as profit
from integrations.econnect.psb.webhooks import MAX_BODY_BYTES, SIGNATURE_HEADER
from portal.webhooks.afas import afas_webhook_receive
from portal.webhooks.services import webhook_receive

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


@csrf_exempt  # eConnect cannot hold a CSRF token; the HMAC signature over the body proves the sender
@require_POST
def econnect_webhook(request, token: str):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return HttpResponse(status=413)
    try:
        receipt = webhook_receive(token=token, body=request.body, signature=request.headers.get(SIGNATURE_HEADER))
    except DatabaseError as exc:
        # Nothing was stored: eConnect delivers the event again later (it retries whatever is not 2xx).
        logger.warning("eConnect webhook not stored, the database is unavailable: %s", exc.__class__.__name__)
        return HttpResponse(status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return HttpResponse(status=receipt.status)


@csrf_exempt  # AFAS cannot hold a CSRF token; the HMAC signature over the body proves the sender
@require_POST
def afas_webhook(request, token: str):
    """AFAS Profit posts dossier events here; it waits 2 seconds and retries whatever is not 2xx."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > profit.MAX_BODY_BYTES:
        return HttpResponse(status=413)
    try:
        status = afas_webhook_receive(
            token=token, body=request.body, signature=request.headers.get(profit.SIGNATURE_HEADER)
        )
    except DatabaseError as exc:
        logger.warning("AFAS webhook not stored, the database is unavailable: %s", exc.__class__.__name__)
        return HttpResponse(status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return HttpResponse(status=status)
