"""Trigram indexes for the inbox search on PostgreSQL (supplier name, any part, any case).

The inbox searches with UPPER(column::text) LIKE UPPER(...), which Django writes for istartswith/icontains; the
index expressions match it. SQLite has no GIN indexes: it searches without them.
"""

from django.db import migrations

INDEXES = {
    "incoming_supplier_trgm_idx": "supplier_name",
}
TABLE = "incoming_invoices_incominginvoice"


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
    dependencies = [("incoming_invoices", "0004_dashboard_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
