"""Record the SHA-256 of the UBL of invoices stored before the hash was recorded at store time.

Batched and not atomic: every batch commits on its own, so a large table is never locked in one long transaction
and an interrupted run continues where it stopped (only rows without a hash are picked). On PostgreSQL the hash is
computed in the database (``sha256(bytea)``, PostgreSQL 11+), so no document crosses the wire; elsewhere in Python.
"""

import hashlib

from django.db import migrations

BATCH = 2000


def record_sha256(apps, schema_editor):
    OutgoingInvoice = apps.get_model("outgoing_invoices", "OutgoingInvoice")
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        table = schema_editor.quote_name(OutgoingInvoice._meta.db_table)
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    f"UPDATE {table} SET sha256 = encode(sha256(ubl), 'hex') WHERE id IN "  # noqa: S608 (table name)
                    f"(SELECT id FROM {table} WHERE sha256 = '' ORDER BY id LIMIT %s)",
                    [BATCH],
                )
                if cursor.rowcount < BATCH:
                    return
    pending = OutgoingInvoice.objects.filter(sha256="").only("pk", "ubl").order_by("pk")
    while True:
        batch = list(pending[:BATCH])
        if not batch:
            return
        for invoice in batch:
            invoice.sha256 = hashlib.sha256(bytes(invoice.ubl or b"")).hexdigest()
        OutgoingInvoice.objects.bulk_update(batch, ["sha256"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outgoing_invoices", "0008_document_retention"),
    ]

    operations = [
        migrations.RunPython(record_sha256, migrations.RunPython.noop, elidable=True),
    ]
