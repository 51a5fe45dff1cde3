"""Format rules the database also enforces (see the CheckConstraints that use these patterns), and the bounds of the
free text people type (a reason, a credential), enforced on the server whatever the browser allowed."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

KVK_PATTERN = r"^[0-9]{8}$"
AFAS_PARTICIPANT_PATTERN = r"^[0-9]{5,6}$"
ICD_SCHEME_PATTERN = r"^[0-9]{4}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
ECONNECT_GROUP_PATTERN = r"^[A-Za-z0-9]{2,40}$"
AFAS_SB_ENVIRONMENT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

kvk_validator = RegexValidator(KVK_PATTERN, _("A KvK number has exactly 8 digits."))
afas_participant_validator = RegexValidator(
    AFAS_PARTICIPANT_PATTERN, _("An AFAS participant number has 5 or 6 digits (the number in your AFAS URL).")
)
econnect_group_validator = RegexValidator(
    ECONNECT_GROUP_PATTERN, _("An eConnect company id has letters and digits only, such as XCNL10019.")
)
afas_sb_environment_validator = RegexValidator(
    AFAS_SB_ENVIRONMENT_PATTERN,
    _("The customer environment is the lowercase name after the host in the SB address, such as enyoi."),
)
icd_scheme_validator = RegexValidator(
    ICD_SCHEME_PATTERN, _("A Peppol identifier scheme is a 4-digit ICD code, such as 0106 for KvK.")
)

# A reason kept in a timeline (why a document is an original, why a finding is dismissed, ...).
MAX_REASON_LENGTH = 1000
# An AFAS token is about a hundred characters and eConnect's keys fewer; anything far longer is not a credential.
MAX_CREDENTIAL_LENGTH = 2000


def reason_too_long(reason: str) -> str | None:
    """What is wrong with a reason of this length, or None."""
    if len(reason) > MAX_REASON_LENGTH:
        return gettext("A reason is at most %(max)s characters (this one has %(length)s).") % {
            "max": MAX_REASON_LENGTH,
            "length": len(reason),
        }
    return None


def checked_reason(reason: str, *, required: str | None) -> str:
    """The stripped reason; ``ValueError`` saying why when it is too long, or (with ``required``, the message that
    asks for it) when it is empty. ``required=None``: the reason may be left out."""
    reason = (reason or "").strip()
    if not reason and required is not None:
        raise ValueError(required)
    problem = reason_too_long(reason)
    if problem:
        raise ValueError(problem)
    return reason
