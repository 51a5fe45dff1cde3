from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class ErrorKind(models.TextChoices):
    """Why the last attempt failed; decides whether the portal retries by itself."""

    TRANSIENT = "transient", _("Temporary failure: retried automatically")
    PERMANENT = "permanent", _("Permanent failure: needs a person")
    CREDENTIALS = "credentials", _("Credentials rejected")
    INVALID_DOCUMENT = "invalid_document", _("Document invalid")
    RECIPIENT = "recipient", _("Recipient not reachable via Peppol")
