"""Trigram indexes for the outbox search on PostgreSQL (number and customer, any part, any case).

The outbox searches with UPPER(column::text) LIKE UPPER(...), which Django writes for istartswith/icontains; the
index expressions match it. SQLite has no GIN indexes: it searches without them.
"""

from django.db import migrations

INDEXES = {
    "outgoing_number_trgm_idx": "invoice_number",
    "outgoing_customer_trgm_idx": "customer_name",
}
TABLE = "outgoing_invoices_outgoinginvoice"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} USING gin (UPPER({column}::text) gin_trgm_ops)"
        )
    # Statistics on the new expressions at once: without them the planner guesses, and may scan the whole table
    # for a rare number until autovacuum's next ANALYZE.
    schema_editor.execute(f"ANALYZE {TABLE}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("outgoing_invoices", "0006_dashboard_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
