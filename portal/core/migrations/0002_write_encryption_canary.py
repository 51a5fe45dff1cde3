from django.db import migrations

CANARY_PLAINTEXT = "peppol-bridge encryption canary v1"  # same as portal.core.models.CANARY_PLAINTEXT


def write_canary(apps, schema_editor):
    EncryptionCanary = apps.get_model("core", "EncryptionCanary")
    if not EncryptionCanary.objects.filter(pk=1).exists():
        EncryptionCanary.objects.create(pk=1, value=CANARY_PLAINTEXT)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(write_canary, migrations.RunPython.noop)]
