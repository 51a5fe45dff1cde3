from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.core.validators import icd_scheme_validator


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PeppolIdentifierFields(models.Model):
    """A Peppol participant identifier stored canonically: ICD scheme + value, shown as ``0106:12345678``."""

    scheme = models.CharField(
        max_length=4,
        validators=[icd_scheme_validator],
        help_text=_("ICD code, e.g. 0106 (KvK), 0190 (OIN), 9944 (NL VAT)."),
    )
    value = models.CharField(max_length=100)

    class Meta:
        abstract = True

    @property
    def identifier(self) -> str:
        return f"{self.scheme}:{self.value}"
