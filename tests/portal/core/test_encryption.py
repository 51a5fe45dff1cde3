import pytest
from cryptography.fernet import Fernet
from django.core.checks import Error, Warning
from django.core.management import CommandError, call_command
from django.db import connection

from portal.celery_app import refuse_to_start_with_wrong_encryption_key
from portal.core.checks import encryption_key_fits_stored_credentials
from portal.core.encryption import CanaryState, canary_status
from portal.core.fields import CredentialDecryptionError
from portal.core.models import EncryptionCanary
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_canary_written_by_migration_decrypts_with_the_configured_key():
    assert canary_status().state is CanaryState.OK
    assert encryption_key_fits_stored_credentials(None) == []


def test_wrong_key_fails_the_system_check_with_a_clear_message(wrong_encryption_key):
    [error] = encryption_key_fits_stored_credentials(None)

    assert isinstance(error, Error)
    assert error.id == "portal.E001"
    assert "FIELD_ENCRYPTION_KEY does not decrypt the stored encryption canary" in error.msg


def test_wrong_key_fails_manage_py_check(wrong_encryption_key):
    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEY does not decrypt"):
        call_command("check")


def test_worker_refuses_to_start_with_the_wrong_key(wrong_encryption_key):
    with pytest.raises(SystemExit, match="Worker not started: FIELD_ENCRYPTION_KEY does not decrypt"):
        refuse_to_start_with_wrong_encryption_key()


def test_worker_starts_with_the_right_key():
    refuse_to_start_with_wrong_encryption_key()


def test_missing_canary_is_a_warning_with_the_way_to_restore_it():
    EncryptionCanary.objects.all().delete()

    [warning] = encryption_key_fits_stored_credentials(None)

    assert isinstance(warning, Warning)
    assert "encryption_canary --write" in warning.msg


def test_canary_command_rewrites_a_missing_canary():
    EncryptionCanary.objects.all().delete()

    call_command("encryption_canary", "--write")

    assert canary_status().state is CanaryState.OK


def test_canary_command_refuses_to_overwrite_under_a_wrong_key(wrong_encryption_key):
    with pytest.raises(CommandError, match="Refusing to overwrite"):
        call_command("encryption_canary", "--write")


def test_reading_a_credential_under_the_wrong_key_raises_instead_of_returning_ciphertext(wrong_encryption_key):
    environment = EnvironmentFactory()
    stored_under_another_key = Fernet(Fernet.generate_key()).encrypt(b"real token").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Environment._meta.db_table} SET afas_token = %s WHERE id = %s",
            [stored_under_another_key, environment.pk],
        )

    with pytest.raises(CredentialDecryptionError, match="Environment.afas_token cannot be decrypted"):
        Environment.objects.get(pk=environment.pk)


def test_credentials_are_stored_encrypted():
    environment = EnvironmentFactory()
    environment_set_credentials(
        environment=environment,
        actor=None,
        afas_token="<token><version>1</version><data>SECRET-AFAS-TOKEN</data></token>",
        econnect_app_key="APPKEY-123456",
        econnect_app_secret="SECRET-ECONNECT",
    )

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT afas_token, econnect_app_key, econnect_app_secret FROM {Environment._meta.db_table} WHERE id = %s",
            [environment.pk],
        )
        raw_columns = cursor.fetchone()

    for raw in raw_columns:
        assert raw.startswith("gAAAAA")  # a Fernet token
    assert "SECRET-AFAS-TOKEN" not in "".join(raw_columns)
    assert "APPKEY-123456" not in "".join(raw_columns)
    assert "SECRET-ECONNECT" not in "".join(raw_columns)
    stored = Environment.objects.get(pk=environment.pk)
    assert stored.afas_token == "<token><version>1</version><data>SECRET-AFAS-TOKEN</data></token>"
    assert stored.econnect_app_secret == "SECRET-ECONNECT"
