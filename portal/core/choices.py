from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.peppol.document_types import DocumentType as UblDocumentType


class DocumentType(models.TextChoices):
    """The UBL root (``integrations.peppol.document_types.DocumentType``) with the names people read."""

    INVOICE = UblDocumentType.INVOICE.value, _("Invoice")
    CREDIT_NOTE = UblDocumentType.CREDIT_NOTE.value, _("Credit note")


class ErrorKind(models.TextChoices):
    """Why the last attempt failed; decides whether the portal retries by itself."""

    TRANSIENT = "transient", _("Temporary failure: retried automatically")
    PERMANENT = "permanent", _("Permanent failure: needs a person")
    CREDENTIALS = "credentials", _("Credentials rejected")
    INVALID_DOCUMENT = "invalid_document", _("Document invalid")
    RECIPIENT = "recipient", _("Recipient not reachable via Peppol")
