"""Format rules the database also enforces (see the CheckConstraints that use these patterns)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

KVK_PATTERN = r"^[0-9]{8}$"
AFAS_PARTICIPANT_PATTERN = r"^[0-9]{5,6}$"
ICD_SCHEME_PATTERN = r"^[0-9]{4}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

kvk_validator = RegexValidator(KVK_PATTERN, _("A KvK number has exactly 8 digits."))
afas_participant_validator = RegexValidator(
    AFAS_PARTICIPANT_PATTERN, _("An AFAS participant number has 5 or 6 digits (the number in your AFAS URL).")
)
icd_scheme_validator = RegexValidator(
    ICD_SCHEME_PATTERN, _("A Peppol identifier scheme is a 4-digit ICD code, such as 0106 for KvK.")
)
