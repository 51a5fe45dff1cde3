"""The encryption canary: does FIELD_ENCRYPTION_KEY still decrypt what is stored?"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import DatabaseError

from portal.core.fields import CredentialDecryptionError
from portal.core.models import CANARY_PLAINTEXT, EncryptionCanary

WRONG_KEY_MESSAGE = (
    "FIELD_ENCRYPTION_KEY does not decrypt the stored encryption canary, so it is not the key the "
    "credentials in this database were encrypted with. Set FIELD_ENCRYPTION_KEY to the original key "
    "(or list the original key after a new one, comma-separated, to rotate)."
)


class CanaryState(enum.Enum):
    OK = "ok"
    WRONG_KEY = "wrong_key"
    MISSING = "missing"
    NOT_MIGRATED = "not_migrated"
    DATABASE_UNAVAILABLE = "database_unavailable"


@dataclass(frozen=True)
class CanaryStatus:
    state: CanaryState
    message: str

    @property
    def ok(self) -> bool:
        return self.state is CanaryState.OK

    @property
    def ok_to_start(self) -> bool:
        """Starting is safe unless stored credentials are known to be unreadable."""
        return self.state is not CanaryState.WRONG_KEY


def canary_status() -> CanaryStatus:
    try:
        canary = EncryptionCanary.objects.filter(pk=1).first()
    except CredentialDecryptionError:
        return CanaryStatus(CanaryState.WRONG_KEY, WRONG_KEY_MESSAGE)
    except DatabaseError as exc:
        if _table_missing():
            return CanaryStatus(CanaryState.NOT_MIGRATED, "The database is not migrated yet (run manage.py migrate).")
        return CanaryStatus(CanaryState.DATABASE_UNAVAILABLE, f"Could not read the canary: {type(exc).__name__}.")
    if canary is None:
        return CanaryStatus(
            CanaryState.MISSING,
            "The encryption canary is missing. If FIELD_ENCRYPTION_KEY is certainly the key the stored "
            "credentials were encrypted with, run: python manage.py encryption_canary --write",
        )
    if canary.value != CANARY_PLAINTEXT:
        return CanaryStatus(CanaryState.WRONG_KEY, WRONG_KEY_MESSAGE)
    return CanaryStatus(CanaryState.OK, "FIELD_ENCRYPTION_KEY decrypts the stored canary.")


def canary_write() -> None:
    EncryptionCanary.objects.update_or_create(pk=1, defaults={"value": CANARY_PLAINTEXT})


def _table_missing() -> bool:
    from django.db import connection

    try:
        return EncryptionCanary._meta.db_table not in connection.introspection.table_names()
    except DatabaseError:
        return False
