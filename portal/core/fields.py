from __future__ import annotations

from cryptography.fernet import InvalidToken
from encrypted_model_fields import fields as encrypted_fields


class CredentialDecryptionError(RuntimeError):
    """A stored credential cannot be decrypted with the configured FIELD_ENCRYPTION_KEY."""


class CredentialField(encrypted_fields.EncryptedTextField):
    """A secret encrypted at rest.

    django-encrypted-model-fields hands back the ciphertext when the key is
    wrong; the portal would then send ciphertext as a token, or encrypt it a
    second time on the next save. Reading such a value raises instead.

    Never editable: no ModelForm (admin or web) can include a credential by accident.
    Credentials are set through services that take the new value explicitly.
    """

    def __init__(self, *args, **kwargs):
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return encrypted_fields.decrypt_str(value)
        except InvalidToken as exc:
            raise CredentialDecryptionError(
                f"{self.model.__name__}.{self.name} cannot be decrypted: FIELD_ENCRYPTION_KEY is not the key "
                "these credentials were stored with."
            ) from exc
