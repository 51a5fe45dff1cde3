from io import StringIO

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import CommandError, call_command
from django.db import connection
from encrypted_model_fields import fields as encrypted_fields

from portal.core.encryption import CanaryState, canary_status
from portal.core.key_rotation import encrypted_tables
from portal.core.models import CANARY_PLAINTEXT, EncryptionCanary
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

ENVIRONMENT_COLUMNS = (
    "afas_token",
    "econnect_app_key",
    "econnect_app_secret",
    "econnect_psb_client_id",
    "econnect_psb_client_secret",
    "econnect_hook_secret",
    "afas_hook_password",
)


@pytest.fixture
def keys(settings, monkeypatch):
    """Switches the configured keys the way a deployment does (settings and the field's crypter together)."""

    def configure(*configured: str) -> None:
        settings.FIELD_ENCRYPTION_KEY = list(configured)
        monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(key) for key in configured]))

    old, new = settings.FIELD_ENCRYPTION_KEY[0], Fernet.generate_key().decode()
    configure(old)
    return type("Keys", (), {"old": old, "new": new, "configure": staticmethod(configure)})


def environments_with_credentials(count: int) -> list[Environment]:
    environments = []
    for number in range(count):
        environment = EnvironmentFactory()
        environment_set_credentials(
            environment=environment,
            actor=None,
            afas_token=f"<token><version>1</version><data>AFAS-{number}</data></token>",
            econnect_app_key=f"APPKEY-{number}",
            econnect_app_secret=f"SECRET-{number}",
        )
        environments.append(environment)
    return environments


def raw_columns(model, columns, pk) -> tuple[str, ...]:
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out)
    return out.getvalue()


def test_every_encrypted_field_is_found_by_its_class():
    found = {table.label: {f.name for f in table.fields} for table in encrypted_tables()}

    assert found["organisations.Environment"] == set(ENVIRONMENT_COLUMNS)
    assert found["core.EncryptionCanary"] == {"value"}


def test_rotation_re_encrypts_every_row_so_the_old_key_can_be_removed(keys):
    environments = environments_with_credentials(3)
    keys.configure(keys.new, keys.old)

    output = rotate("--batch-size", "2")

    keys.configure(keys.new)  # the old key is retired
    for number, environment in enumerate(environments):
        stored = Environment.objects.get(pk=environment.pk)
        assert stored.econnect_app_key == f"APPKEY-{number}"
        assert stored.econnect_app_secret == f"SECRET-{number}"
        assert stored.afas_token.endswith(f"<data>AFAS-{number}</data></token>")
        for raw in raw_columns(Environment, ENVIRONMENT_COLUMNS, environment.pk):
            Fernet(keys.new.encode()).decrypt(raw.encode())  # raises if not under the new key
    assert canary_status().state is CanaryState.OK
    assert EncryptionCanary.objects.get().value == CANARY_PLAINTEXT
    assert (
        "organisations.Environment (afas_token, econnect_app_key, econnect_app_secret, econnect_psb_client_id, "
        "econnect_psb_client_secret, econnect_hook_secret, afas_hook_password): 3 rows, 21 values"
    ) in output
    assert "Re-encrypted 22 values in 4 rows with the first key (22 were under an older key)." in output
    assert "set FIELD_ENCRYPTION_KEY to that key" in output


def test_without_rotation_the_new_key_alone_cannot_read_the_rows(keys):
    """The counterpart of the test above: proves that it is the rotation that makes the old key removable."""
    [environment] = environments_with_credentials(1)

    keys.configure(keys.new)

    assert canary_status().state is CanaryState.WRONG_KEY
    with pytest.raises(Exception, match="cannot be decrypted"):
        Environment.objects.get(pk=environment.pk)


def test_dry_run_counts_and_changes_nothing(keys):
    [environment] = environments_with_credentials(1)
    before = raw_columns(Environment, ENVIRONMENT_COLUMNS, environment.pk)
    keys.configure(keys.new, keys.old)

    output = rotate("--dry-run")

    assert raw_columns(Environment, ENVIRONMENT_COLUMNS, environment.pk) == before
    assert "Would re-encrypt 8 values in 2 rows with the first key (8 were under an older key)." in output
    keys.configure(keys.new)
    assert canary_status().state is CanaryState.WRONG_KEY


def test_a_value_no_key_decrypts_stops_the_rotation_before_any_change_and_is_named(keys):
    good, bad = environments_with_credentials(2)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Environment._meta.db_table} SET econnect_app_secret = %s WHERE id = %s",
            [Fernet(Fernet.generate_key()).encrypt(b"lost").decode(), bad.pk],
        )
    good_before = raw_columns(Environment, ENVIRONMENT_COLUMNS, good.pk)
    keys.configure(keys.new, keys.old)

    with pytest.raises(CommandError) as refused:
        rotate()

    assert f"organisations.Environment #{bad.pk} econnect_app_secret" in str(refused.value)
    assert "nothing was re-encrypted" in str(refused.value)
    assert raw_columns(Environment, ENVIRONMENT_COLUMNS, good.pk) == good_before


def test_running_it_again_is_harmless(keys):
    [environment] = environments_with_credentials(1)
    keys.configure(keys.new, keys.old)
    rotate()

    output = rotate()

    assert "(0 were under an older key)" in output
    keys.configure(keys.new)
    assert Environment.objects.get(pk=environment.pk).econnect_app_secret == "SECRET-0"
