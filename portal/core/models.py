from __future__ import annotations

from django.db import models

from portal.core.fields import CredentialField

CANARY_PLAINTEXT = "peppol-bridge encryption canary v1"


class EncryptionCanary(models.Model):
    """One row encrypted with the field-encryption key, to prove the key still fits."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    value = CredentialField()
    written_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="encryption_canary_singleton")]

    def __str__(self) -> str:
        return "encryption canary"
