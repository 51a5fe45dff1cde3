"""Benchmark of the accountant's busiest pages: ``python -m benchmarks.portal_pages [--outgoing 1000000] ...``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``). It creates a throwaway database ``portal_bench_portal_pages`` on
that server (never the one in DATABASE_URL), migrates it and seeds, with set-based SQL (``INSERT ... SELECT ... FROM
generate_series``, secondary indexes dropped during the load and rebuilt after it), the worst case of the issue: one
firm holding all 200 organisations with three AFAS environments each (production, test, acceptance: 600), a few
thousand debtors and creditors, 1,000,000 outgoing and 1,000,000 incoming invoices over two years (growing towards
today; most delivered or acknowledged, a few hundred needing attention, failed, stale or held as duplicates, a few
thousand in progress from the last two days), timelines for the recent and troubled ones, and a second, small firm
so that scoping by firm is real. Then VACUUM ANALYZE.

It measures with Django's test client, in process (server time: the request through the whole Django stack,
templates included), logged in as an accountant of the big firm: the dashboard, the outbox (first page, filtered by
environment, searched by number prefix and by customer, the "older" page its own link leads to), the inbox (first
page, the held duplicates filter, searched by number) and one invoice page each way; and the small firm's outbox and
inbox. Median and p95 in milliseconds over ``--runs`` requests after a warm-up, SQL queries per request, and the
slowest query; PASS when p95 is under ``--budget-ms`` (300). For a page over budget it prints EXPLAIN (ANALYZE,
BUFFERS) of its slowest query. A COUNT over the invoice tables that reads more than ``--count-rows`` rows fails as a
full-table count.

Exit status 1 when a page is over budget, does not answer 200, cannot be found (a link the page should have), or
counts the whole table. ``--keep-db`` keeps the database; ``--reuse-db`` measures a kept one again without seeding.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser

from benchmarks import harness
from benchmarks.harness import REPO, explain, percentile

BENCH_DB = "portal_bench_portal_pages"
BIG_FIRM = "Benchmark accountants"
SMALL_FIRM = "Small office"
ENVIRONMENT_TYPES = ("production", "test", "accept")
# Of an organisation's invoices, the share of each environment.
ENVIRONMENT_SHARE = {"production": 0.94, "test": 0.04, "accept": 0.02}
# Debtors and creditors per environment: production has the real relations, test and acceptance a few.
DEBTORS = {"production": 20, "test": 4, "accept": 4}
CREDITORS = {"production": 8, "test": 2, "accept": 2}
SPAN_DAYS = 730
DETAIL_UBL = REPO / "tests" / "fixtures" / "peppol" / "edge" / "nlcius_invoice.xml"
PLACEHOLDER_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    b"<!-- benchmark placeholder --></Invoice>\n"
)

TRADES = ("Bakkerij", "Installatiebedrijf", "Transportbedrijf", "Schildersbedrijf", "Adviesbureau",
          "Hoveniersbedrijf", "Autobedrijf", "Drukkerij", "Timmerfabriek", "Zorggroep", "Bouwbedrijf", "Groothandel",
          "Kantoorvakhandel", "Elektrotechniek", "Loodgietersbedrijf", "Dakdekkersbedrijf", "Catering",
          "Schoonmaakbedrijf", "ICT-diensten", "Fietsenmakerij")  # fmt: skip
SURNAMES = ("De Vries", "Jansen", "Van Dijk", "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder", "De Groot",
            "Bos", "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker", "Brouwer", "De Wit", "Dijkstra", "Smits")  # fmt: skip
FORMS = ("B.V.", "V.O.F.", "Holding B.V.", "& Zn.", "Groep B.V.", "")
SUPPLIERS = ("KPN B.V.", "Eneco Zakelijk B.V.", "Vodafone Libertel B.V.", "Makro Nederland B.V.", "Coolblue B.V.",
             "Bol.com B.V.", "Shell Nederland Verkoop Maatschappij B.V.", "Staples Nederland B.V.",
             "Technische Unie B.V.", "Lyreco Nederland B.V.", "Sligro Food Group Nederland B.V.",
             "Hornbach Bouwmarkt (Nederland) B.V.", "Exact Nederland B.V.", "Ziggo Zakelijk B.V.",
             "Vattenfall Klantenservice N.V.", "Randstad Nederland B.V.")  # fmt: skip


def _sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]::text[]"


# --- seeding ------------------------------------------------------------------------------------------------------


@dataclass
class Scale:
    organisations: int = 200
    outgoing: int = 1_000_000
    incoming: int = 1_000_000
    small_organisations: int = 2
    small_share: float = 0.002  # of the invoices, the small firm's


@dataclass
class Seeded:
    big_firm_id: int
    small_firm_id: int
    big_user_id: int
    small_user_id: int
    busiest_environment_id: int
    seconds: dict[str, float] = field(default_factory=dict)
    detail_ids: tuple[int, int] = (0, 0)  # the outgoing and the incoming invoice with a real UBL


def seed_columns(model, expressions: dict[str, str]) -> tuple[str, str, dict]:
    """The INSERT column list and SELECT list for ``model``: ``expressions`` (column -> SQL) and, for every other
    NOT NULL column, the field's default, so a column added later does not break the seeding."""
    from django.db import connection, models

    columns, selects, params = [], [], {}
    for model_field in model._meta.concrete_fields:
        column = model_field.column
        if column in expressions:
            columns.append(column)
            selects.append(expressions[column])
        elif model_field.primary_key or model_field.null:
            continue
        elif model_field.has_default():
            columns.append(column)
            selects.append(f"%(default_{column})s")
            params[f"default_{column}"] = model_field.get_db_prep_save(model_field.get_default(), connection)
        elif isinstance(model_field, models.CharField | models.TextField) and model_field.blank:
            columns.append(column)
            selects.append("''")
        else:
            raise RuntimeError(f"{model.__name__}.{model_field.name}: the seeding has no value for this column")
    unknown = set(expressions) - set(columns)
    if unknown:
        raise RuntimeError(f"{model.__name__}: no such columns {sorted(unknown)}")
    return ", ".join(columns), ",\n       ".join(selects), params


def _insert_select(cursor, model, expressions: dict[str, str], tail: str, params: dict, *, head_sql: str = "") -> int:
    columns, selects, defaults = seed_columns(model, expressions)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({columns})\n{head_sql}\nSELECT {selects}\n{tail}",
        {**defaults, **params},
    )
    return cursor.rowcount


@contextmanager
def _secondary_indexes_rebuilt(cursor, table: str):
    """Loading a million rows into a table is several times faster without its secondary indexes; they are built
    again (from their own definitions) afterwards. Indexes behind constraints (primary key, unique) stay."""
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)


def _seed_firms(scale: Scale, now: datetime) -> tuple[object, object, list, list]:
    from portal.accounts.models import Membership, User
    from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier

    firms, all_environments = [], []
    for name, organisations, first_kvk, first_participant in (
        (BIG_FIRM, scale.organisations, 62_000_000, 10_000),
        (SMALL_FIRM, scale.small_organisations, 63_000_000, 900_000),
    ):
        firm = Firm.objects.create(name=name)
        orgs = Organisation.objects.bulk_create(
            Organisation(firm=firm, name=f"{SURNAMES[i % 20]} {TRADES[(i // 20) % 20]} {i + 1:03d} B.V."
                         if name == BIG_FIRM else f"{name} klant {i + 1}", kvk_number=f"{first_kvk + i}")
            for i in range(organisations)
        )  # fmt: skip
        environments = Environment.objects.bulk_create(
            Environment(
                organisation=organisation,
                afas_participant_number=f"{first_participant + index}",
                afas_environment_type=environment_type,
                sending_enabled=environment_type == "production",
                receiving_enabled=environment_type == "production",
                afas_token_set_at=now - timedelta(days=300),
                econnect_keys_set_at=now - timedelta(days=300),
                contacts_synced_at=now - timedelta(minutes=7 + index % 50),
                contacts_full_sync_at=now - timedelta(hours=index % 24),
                # A few environments whose AFAS token was revoked: the dashboard's failing credentials.
                contacts_sync_error="AFAS answered 401 Unauthorized: the token was rejected."
                if index % 97 == 5
                else "",
            )
            for index, organisation in enumerate(orgs)
            for environment_type in ENVIRONMENT_TYPES
        )
        OwnPeppolIdentifier.objects.bulk_create(
            OwnPeppolIdentifier(environment=environment, scheme="0106", value=environment.organisation.kvk_number,
                                receive_active=True, registration="econnect", registration_checked_at=now)
            for environment in environments
            if environment.afas_environment_type == "production"
        )  # fmt: skip
        firms.append(firm)
        all_environments.append(environments)
    users = []
    for firm, username in ((firms[0], "bench-accountant"), (firms[1], "bench-small")):
        user = User.objects.create_user(username=username, password=None, first_name="Bench")
        Membership.objects.create(user=user, firm=firm, role=Membership.Role.ACCOUNTANT)
        users.append(user)
    return firms[0], firms[1], users, all_environments


def _seed_helper_tables(cursor, big_firm_id: int, small_firm_id: int) -> None:
    """Temporary lookup tables: environments by (firm, organisation rank, type), debtors and creditors by rank."""
    from portal.contacts.models import Contact
    from portal.organisations.models import Environment, Organisation

    env, org, contact = Environment._meta.db_table, Organisation._meta.db_table, Contact._meta.db_table
    cursor.execute(
        f"""CREATE TEMP TABLE bench_env ON COMMIT DROP AS
            SELECT e.id AS env_id, e.afas_environment_type AS env_type, o.firm_id,
                   (dense_rank() OVER (PARTITION BY o.firm_id ORDER BY o.id))::int - 1 AS org_rank,
                   0 AS n_debtors, 0 AS n_creditors
            FROM {env} e JOIN {org} o ON o.id = e.organisation_id WHERE o.firm_id IN (%(big)s, %(small)s)""",
        {"big": big_firm_id, "small": small_firm_id},
    )
    for kind, table in (("debtor", "bench_debtor"), ("creditor", "bench_creditor")):
        cursor.execute(
            f"""CREATE TEMP TABLE {table} ON COMMIT DROP AS
                SELECT c.environment_id AS env_id, c.id AS contact_id, c.name, c.kvk_number, c.afas_id,
                       (row_number() OVER (PARTITION BY c.environment_id ORDER BY c.id))::int - 1 AS k
                FROM {contact} c JOIN bench_env e ON e.env_id = c.environment_id WHERE c.kind = %(kind)s""",
            {"kind": kind},
        )
        cursor.execute(f"CREATE INDEX ON {table} (env_id, k)")
        cursor.execute(
            f"""UPDATE bench_env e SET n_{kind}s = c.n
                FROM (SELECT env_id, count(*) AS n FROM {table} GROUP BY env_id) c WHERE c.env_id = e.env_id"""
        )
    cursor.execute("CREATE INDEX ON bench_env (firm_id, org_rank, env_type)")
    cursor.execute("ANALYZE bench_env; ANALYZE bench_debtor; ANALYZE bench_creditor")


def _seed_contacts(cursor, environment_ids: list[int], now: datetime) -> int:
    from portal.contacts.models import Contact
    from portal.organisations.models import Environment

    rows = 0
    for kind, per_type in (("debtor", DEBTORS), ("creditor", CREDITORS)):
        names = (
            f"({_sql_array(TRADES)})[1 + mod(n * 7 + e.id, 20)] || ' ' || ({_sql_array(SURNAMES)})[1 + mod(n * 3 + e.id * 11, 20)]"
            f" || ' ' || ({_sql_array(FORMS)})[1 + mod(n + e.id, 6)]"
            if kind == "debtor"
            else f"CASE WHEN n <= 5 THEN ({_sql_array(SUPPLIERS)})[1 + mod(n * 5 + e.id, {len(SUPPLIERS)})]"
            f" ELSE ({_sql_array(SURNAMES)})[1 + mod(n + e.id, 20)] || ' ' || ({_sql_array(TRADES)})[1 + mod(n * 13 + e.id, 20)] || ' B.V.' END"
        )  # fmt: skip
        outcome = (
            "CASE WHEN mod(n * 31 + e.id, 100) < 55 THEN 'reachable' WHEN mod(n * 31 + e.id, 100) < 77 "
            "THEN 'not_on_peppol' WHEN mod(n * 31 + e.id, 100) < 80 THEN 'cannot_receive' "
            "WHEN mod(n * 31 + e.id, 100) < 85 THEN 'identifier_invalid' ELSE 'not_checked' END"
        )
        rows += _insert_select(
            cursor,
            Contact,
            {
                "environment_id": "e.id",
                "kind": f"'{kind}'",
                "afas_id": f"'{'1' if kind == 'debtor' else '7'}' || lpad(n::text, 4, '0')",
                "name": names,
                "kvk_number": "lpad((30000000 + mod(e.id * 1009 + n * 7919, 60000000))::text, 8, '0')",
                "issue_method": "'R'" if kind == "debtor" else "''",
                "afas_state": "CASE WHEN mod(n + e.id, 40) = 0 THEN 'blocked' ELSE 'active' END",
                "lookup_outcome": outcome if kind == "debtor" else "'not_checked'",
                "lookup_checked_at": "%(now)s - make_interval(days => mod(n, 30))" if kind == "debtor" else "NULL",
                "created_at": "%(now)s - interval '800 days'",
                "updated_at": "%(now)s - make_interval(days => mod(n, 30))",
            },
            f"""FROM {Environment._meta.db_table} e
                CROSS JOIN LATERAL generate_series(1, CASE e.afas_environment_type
                    WHEN 'production' THEN {per_type["production"]} WHEN 'test' THEN {per_type["test"]}
                    ELSE {per_type["accept"]} END) AS n
                WHERE e.id = ANY(%(environments)s) ORDER BY e.id, n""",
            {"now": now, "environments": environment_ids},
        )
    return rows


# The random draws of every invoice, then where and when it lands: an organisation (a few big ones, many small:
# rank = organisations * u^1.5), an environment of it, a contact of that environment, and a moment in the last two
# years with a density growing linearly from 0.6 to 1.4 (inverse CDF), so that recent months are fuller.
_PLACED = """
WITH r AS MATERIALIZED (
    SELECT g, random() AS u_org, random() AS u_type, random() AS u_contact, random() AS u_time, random() AS u_status,
           random() AS u_pick, random() AS u_amount
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
), placed AS MATERIALIZED (
    SELECT r.*, e.env_id, e.env_type, c.contact_id, c.name AS contact_name, c.kvk_number AS contact_kvk,
           c.afas_id AS contact_afas_id,
           %(now)s - make_interval(secs => %(span)s * (1 - (sqrt(0.36 + 1.6 * r.u_time) - 0.6) / 0.8)) AS created
    FROM r
    JOIN bench_env e ON e.firm_id = %(firm)s AND e.org_rank = least(floor(%(orgs)s * power(r.u_org, 1.5))::int, %(orgs)s - 1)
         AND e.env_type = CASE WHEN r.u_type < %(production)s THEN 'production'
                               WHEN r.u_type < %(production)s + %(test)s THEN 'test' ELSE 'accept' END
    JOIN {contacts} c ON c.env_id = e.env_id AND c.k = least(floor(r.u_contact * e.n_{kind}s)::int, e.n_{kind}s - 1)
), aged AS (
    SELECT p.*, extract(epoch FROM %(now)s - p.created) / 86400 AS age_days,
           row_number() OVER (PARTITION BY p.env_id, date_part('year', p.created) ORDER BY p.created) AS seq
    FROM placed p
)"""  # noqa: E501

# Outgoing: in progress only in the last two days; troubles in the last four months; not sent (AFAS sends those
# customers' invoices itself) and resolved by hand throughout; the rest delivered.
_OUTGOING_STATES = """, stated AS (
    SELECT a.*, CASE
        WHEN a.age_days < 2 AND a.u_status < 0.8 THEN (ARRAY['new', 'ready', 'submitting', 'retry_wait', 'submitted',
            'submitted', 'submitted', 'submitted'])[1 + floor(a.u_pick * 8)::int]
        WHEN a.u_status < 0.015 THEN 'not_sent'
        WHEN a.age_days < 120 AND a.u_status < 0.0168 THEN 'needs_attention'
        WHEN a.age_days < 120 AND a.u_status < 0.01815 THEN 'failed'
        WHEN a.age_days < 120 AND a.u_status < 0.01885 THEN 'rejected'
        WHEN a.age_days < 120 AND a.u_status < 0.01975 THEN 'stale'
        WHEN a.u_status < 0.023 THEN 'resolved_manually'
        ELSE 'delivered' END AS status
    FROM aged a
)"""

# Incoming: in progress in the last two days; held (duplicates mostly) and failed in the last four months; some
# resolved by hand; a few acknowledged ones where eConnect flagged a duplicate the portal did not find.
_INCOMING_STATES = """, stated AS (
    SELECT a.*, CASE
        WHEN a.age_days < 2 AND a.u_status < 0.8 THEN (ARRAY['received', 'ready', 'delivering', 'retry_wait',
            'delivered', 'delivered', 'delivered', 'ready'])[1 + floor(a.u_pick * 8)::int]
        WHEN a.age_days < 120 AND a.u_status < 0.0020 THEN 'held:duplicate'
        WHEN a.age_days < 120 AND a.u_status < 0.0023 THEN 'held:econnect_flag_disputed'
        WHEN a.age_days < 120 AND a.u_status < 0.0025 THEN 'held:unparseable'
        WHEN a.age_days < 120 AND a.u_status < 0.0027 THEN 'held:vat_not_mappable'
        WHEN a.age_days < 120 AND a.u_status < 0.0028 THEN 'held:delivery_uncertain'
        WHEN a.age_days < 120 AND a.u_status < 0.0038 THEN 'failed'
        WHEN a.u_status < 0.0068 THEN 'resolved_manually'
        WHEN a.u_status < 0.0072 THEN 'acknowledged:disagreement'
        ELSE 'acknowledged' END AS state
    FROM aged a
), stated2 AS (
    SELECT s.*, split_part(s.state, ':', 1) AS status, split_part(s.state, ':', 2) AS detail FROM stated s
)"""

_UUID = "regexp_replace(md5({seed}), '(.{{8}})(.{{4}})(.{{4}})(.{{4}})(.{{12}})', '\\1-\\2-\\3-\\4-\\5')"


def _outgoing_expressions() -> dict[str, str]:
    submitted = "s.status IN ('submitting', 'retry_wait', 'submitted', 'delivered', 'rejected', 'stale', 'failed', 'resolved_manually')"  # noqa: E501
    final = "s.status IN ('delivered', 'failed', 'rejected', 'stale', 'resolved_manually', 'not_sent')"
    return {
        "environment_id": "s.env_id",
        "contact_id": "s.contact_id",
        "afas_identity": "'DI' || s.g",
        "is_test": "mod(s.g, 500) = 0",
        "afas_organisation_code": "s.contact_afas_id",
        "afas_issue_method": "CASE s.status WHEN 'not_sent' THEN 'C' ELSE 'R' END",
        "document_type": "CASE WHEN s.u_amount < 0.05 THEN 'credit_note' ELSE 'invoice' END",
        "invoice_number": "CASE s.env_type WHEN 'production' THEN '' ELSE 'T' END || to_char(s.created, 'YY') "
        "|| lpad(s.seq::text, 6, '0')",
        "issue_date": "(s.created - make_interval(days => mod(s.g, 4)::int))::date",
        "customer_name": "s.contact_name",
        "currency": "CASE WHEN mod(s.g, 97) = 0 THEN 'USD' ELSE 'EUR' END",
        "payable_amount": "round(exp(ln(10) + s.u_amount * ln(5000))::numeric, 2)",
        "ubl": "%(placeholder)s",
        "validation_findings": """CASE WHEN s.status = 'needs_attention' THEN jsonb_build_array(jsonb_build_object(
            'rule_id', 'BR-NL-1', 'severity', 'fatal', 'message', 'For suppliers in the Netherlands the supplier MUST
            provide either a KVK or OIN number for its legal entity identifier.', 'location', '/Invoice[1]',
            'hint_en', 'Fill in the KvK number of the organisation in AFAS.', 'hint_nl',
            'Vul het KvK-nummer van de organisatie in AFAS in.')) ELSE '[]'::jsonb END""",
        "validated_at": "CASE WHEN s.status = 'new' THEN NULL ELSE s.created + interval '20 seconds' END",
        "recipient_scheme": "CASE WHEN s.status IN ('new', 'not_sent') THEN '' ELSE '0106' END",
        "recipient_value": "CASE WHEN s.status IN ('new', 'not_sent') THEN '' ELSE s.contact_kvk END",
        "submission_reference": f"CASE WHEN {submitted} THEN 'pb-o-' || s.g ELSE '' END",
        "submission_prepared_at": f"CASE WHEN {submitted} THEN s.created + interval '1 minute' END",
        "econnect_document_id": "CASE WHEN s.status IN ('submitted', 'delivered', 'rejected', 'stale', "
        "'resolved_manually') THEN " + _UUID.format(seed="'o' || s.g") + " ELSE '' END",
        "econnect_status": "CASE s.status WHEN 'delivered' THEN 'Delivered' WHEN 'rejected' THEN 'Rejected' "
        "WHEN 'stale' THEN 'Sent' WHEN 'submitted' THEN 'Sent' ELSE '' END",
        "status": "s.status",
        "status_changed_at": f"CASE WHEN {final} THEN s.created + interval '12 minutes' ELSE s.created END",
        "attempts": "CASE WHEN s.status IN ('new', 'ready', 'not_sent') THEN 0 WHEN s.status = 'retry_wait' "
        "THEN 2 + mod(s.g, 3) ELSE 1 END",
        "next_attempt_at": "CASE WHEN s.status = 'retry_wait' THEN %(now)s + interval '4 minutes' END",
        "last_error_kind": "CASE s.status WHEN 'needs_attention' THEN 'invalid_document' WHEN 'failed' THEN "
        "'recipient' WHEN 'rejected' THEN 'permanent' WHEN 'retry_wait' THEN 'transient' ELSE '' END",
        "last_error_code": "CASE s.status WHEN 'rejected' THEN 'REJ-422' WHEN 'retry_wait' THEN '503' ELSE '' END",
        "last_error_message": "CASE s.status WHEN 'needs_attention' THEN 'The invoice does not pass the Peppol "
        "rules (BR-NL-1).' WHEN 'failed' THEN 'The customer cannot receive invoices via Peppol.' WHEN 'rejected' "
        "THEN 'The receiving access point rejected the document.' WHEN 'retry_wait' THEN 'eConnect answered 503 "
        "Service Unavailable.' ELSE '' END",
        "submitted_at": "CASE WHEN s.status IN ('submitted', 'delivered', 'rejected', 'stale', 'resolved_manually') "
        "THEN s.created + interval '2 minutes' END",
        "completed_at": f"CASE WHEN {final} THEN s.created + interval '12 minutes' END",
        "created_at": "s.created",
        "updated_at": f"CASE WHEN {final} THEN s.created + interval '12 minutes' ELSE s.created END",
    }


def _incoming_expressions() -> dict[str, str]:
    prefix = "(ARRAY['INV-', 'F', to_char(s.created, 'YYYY') || '-', 'NL', '', 'FAC'])[1 + mod(s.contact_id, 6)::int]"
    digits = "mod(s.g * 7919, 1000000)"
    number = f"{prefix} || lpad({digits}::text, 6, '0')"
    # As duplicates.normalise_invoice_number: upper case, letters and digits, no leading zeros in a run of digits.
    normalised = f"upper(regexp_replace({prefix}, '[^0-9A-Za-z]', '', 'g')) || {digits}::text"
    delivered = "s.status IN ('delivered', 'acknowledged', 'resolved_manually')"
    return {
        "environment_id": "s.env_id",
        "econnect_document_id": _UUID.format(seed="'i' || s.g"),
        "raw_xml": "%(placeholder)s",
        "sha256": "encode(sha256(('i' || s.g)::bytea), 'hex')",
        "parse_error": "CASE s.detail WHEN 'unparseable' THEN 'The document is not well-formed XML: line 1, "
        "column 40: unexpected end of data.' ELSE '' END",
        "document_type": "CASE WHEN s.detail = 'unparseable' THEN '' WHEN s.u_amount < 0.04 THEN 'credit_note' "
        "ELSE 'invoice' END",
        "invoice_number": f"CASE WHEN s.detail = 'unparseable' THEN '' ELSE {number} END",
        "normalised_invoice_number": f"CASE WHEN s.detail = 'unparseable' THEN '' ELSE {normalised} END",
        "issue_date": "CASE WHEN s.detail = 'unparseable' THEN NULL "
        "ELSE (s.created - make_interval(days => mod(s.g, 6)::int))::date END",
        "currency": "CASE WHEN s.detail = 'unparseable' THEN '' ELSE 'EUR' END",
        "supplier_name": "CASE WHEN s.detail = 'unparseable' THEN '' ELSE s.contact_name END",
        "supplier_identifiers": "CASE WHEN s.detail = 'unparseable' THEN '[]'::jsonb "
        "ELSE jsonb_build_array('0106:' || s.contact_kvk) END",
        "supplier_key": "CASE WHEN s.detail = 'unparseable' THEN '' ELSE 'kvk:' || s.contact_kvk END",
        "supplier_id": "CASE WHEN s.detail = 'unparseable' THEN NULL ELSE s.contact_id END",
        "payable_amount": "CASE WHEN s.detail = 'unparseable' THEN NULL "
        "ELSE round(exp(ln(5) + s.u_amount * ln(4000))::numeric, 2) END",
        "tax_amount": "CASE WHEN s.detail = 'unparseable' THEN NULL "
        "ELSE round(exp(ln(5) + s.u_amount * ln(4000))::numeric * 21 / 121, 2) END",
        "econnect_duplicate_flag": "s.detail IN ('econnect_flag_disputed', 'disagreement') "
        "OR (s.detail = 'duplicate' AND s.u_pick < 0.9)",
        "duplicate_verdict": "CASE WHEN s.status IN ('received') OR s.detail = 'unparseable' THEN 'not_checked' "
        "WHEN s.detail = 'duplicate' THEN (ARRAY['certain_duplicate', 'duplicate', 'duplicate', "
        "'suspected_duplicate'])[1 + floor(s.u_pick * 4)::int] WHEN mod(s.g, 150) = 0 THEN 'supplier_unknown' "
        "ELSE 'original' END",
        "status": "s.status",
        "status_changed_at": f"CASE WHEN {delivered} THEN s.created + interval '3 minutes' ELSE s.created END",
        "hold_reason": "CASE WHEN s.status = 'held' THEN s.detail ELSE '' END",
        "attempts": "CASE WHEN s.status IN ('received', 'ready', 'held') THEN 0 WHEN s.status = 'retry_wait' "
        "THEN 2 ELSE 1 END",
        "next_attempt_at": "CASE WHEN s.status = 'retry_wait' THEN %(now)s + interval '3 minutes' END",
        "last_error_kind": "CASE s.status WHEN 'failed' THEN 'permanent' WHEN 'retry_wait' THEN 'transient' "
        "ELSE '' END",
        "last_error_message": "CASE s.status WHEN 'failed' THEN 'AFAS refused the purchase invoice: the creditor "
        "is blocked.' WHEN 'retry_wait' THEN 'AFAS answered 503 Service Unavailable.' ELSE '' END",
        "afas_reference": f"CASE WHEN {delivered} THEN 'INK' || lpad(s.seq::text, 7, '0') ELSE '' END",
        "delivered_at": f"CASE WHEN {delivered} THEN s.created + interval '2 minutes' END",
        "acknowledged_at": "CASE WHEN s.status IN ('acknowledged', 'resolved_manually') "
        "THEN s.created + interval '3 minutes' END",
        "created_at": "s.created",
        "updated_at": f"CASE WHEN {delivered} THEN s.created + interval '3 minutes' ELSE s.created END",
    }


def _seed_invoices(cursor, *, model, firm_id: int, organisations: int, first: int, count: int, now: datetime) -> int:
    from portal.outgoing_invoices.models import OutgoingInvoice

    outgoing = model is OutgoingInvoice
    head = _PLACED.format(contacts="bench_debtor" if outgoing else "bench_creditor",
                          kind="debtor" if outgoing else "creditor")  # fmt: skip
    head += _OUTGOING_STATES if outgoing else _INCOMING_STATES
    expressions = _outgoing_expressions() if outgoing else _incoming_expressions()
    return _insert_select(
        cursor,
        model,
        expressions,
        f"FROM {'stated' if outgoing else 'stated2'} s ORDER BY s.created",
        {"first": first, "last": first + count - 1, "now": now, "span": SPAN_DAYS * 86400, "firm": firm_id,
         "orgs": organisations, "production": ENVIRONMENT_SHARE["production"], "test": ENVIRONMENT_SHARE["test"],
         "placeholder": PLACEHOLDER_XML},
        head_sql=head,
    )  # fmt: skip


def _link_duplicates(cursor) -> int:
    """Each held duplicate points at an earlier acknowledged document of its environment, made to look like it."""
    from portal.incoming_invoices.models import IncomingInvoice

    table = IncomingInvoice._meta.db_table
    cursor.execute(
        f"""UPDATE {table} d SET duplicate_of_id = o.id, invoice_number = o.invoice_number,
                   normalised_invoice_number = o.normalised_invoice_number, supplier_name = o.supplier_name,
                   supplier_key = o.supplier_key, supplier_id = o.supplier_id,
                   supplier_identifiers = o.supplier_identifiers, issue_date = o.issue_date,
                   document_type = o.document_type,
                   sha256 = CASE WHEN d.duplicate_verdict = 'certain_duplicate' THEN o.sha256 ELSE d.sha256 END,
                   payable_amount = CASE WHEN d.duplicate_verdict = 'suspected_duplicate' THEN d.payable_amount
                                         ELSE o.payable_amount END,
                   duplicate_evidence = jsonb_build_object(
                       'rule', CASE d.duplicate_verdict
                           WHEN 'certain_duplicate' THEN 'identical bytes (same SHA-256) as an earlier document'
                           WHEN 'duplicate' THEN 'same supplier, invoice number, document type and issue date'
                           ELSE 'same supplier, invoice number, document type and issue date; the amounts differ'
                       END,
                       'this', jsonb_build_object('id', d.id, 'invoice_number', o.invoice_number,
                                                  'supplier_name', o.supplier_name),
                       'matched', jsonb_build_object('id', o.id, 'invoice_number', o.invoice_number,
                                                     'supplier_name', o.supplier_name,
                                                     'received_at', o.created_at))
            FROM {table} h
            CROSS JOIN LATERAL (
                SELECT * FROM {table} x
                WHERE x.environment_id = h.environment_id AND x.created_at < h.created_at - interval '1 day'
                  AND x.status = 'acknowledged' AND x.invoice_number <> ''
                ORDER BY x.created_at DESC LIMIT 1) o
            WHERE h.status = 'held' AND h.hold_reason = 'duplicate' AND d.id = h.id"""
    )
    return cursor.rowcount


def _seed_events(cursor, now: datetime) -> int:
    """Timelines: the last three days' invoices and every troubled one (three events each), and per environment its
    credentials and its last contacts sync."""
    from portal.events.models import Event
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Environment
    from portal.outgoing_invoices.models import OutgoingInvoice

    rows = 0
    for model, subject, first_kind, actor in (
        (OutgoingInvoice, "outgoing_invoice_id", "collected", "sending"),
        (IncomingInvoice, "incoming_invoice_id", "received", "receiving"),
    ):
        troubled = ["needs_attention", "failed", "rejected", "stale", "held", "retry_wait"]
        rows += _insert_select(
            cursor,
            Event,
            {
                "created_at": "i.created_at + make_interval(mins => step)",
                "environment_id": "i.environment_id",
                subject: "i.id",
                "actor_type": "'system'",
                "actor_name": f"'{actor}'",
                "kind": f"CASE step WHEN 1 THEN '{first_kind}' ELSE 'status_changed' END",
                "from_status": "CASE step WHEN 1 THEN '' WHEN 2 THEN 'new' ELSE 'ready' END",
                "to_status": "CASE step WHEN 1 THEN 'new' WHEN 2 THEN 'ready' ELSE i.status END",
                "message": f"CASE step WHEN 1 THEN '{first_kind.capitalize()} ' || i.invoice_number "
                "WHEN 2 THEN 'Checked and ready.' ELSE 'Now ' || i.status || '.' END",
            },
            f"""FROM {model._meta.db_table} i CROSS JOIN generate_series(1, 3) AS step
                WHERE i.created_at > %(since)s OR i.status = ANY(%(troubled)s) ORDER BY i.created_at, step""",
            {"since": now - timedelta(days=3), "troubled": troubled},
        )
    rows += _insert_select(
        cursor,
        Event,
        {
            "created_at": "CASE step WHEN 1 THEN %(now)s - interval '300 days' "
            "ELSE coalesce(e.contacts_synced_at, %(now)s) END",
            "environment_id": "e.id",
            "actor_type": "'system'",
            "actor_name": "CASE step WHEN 1 THEN 'support' ELSE 'contacts sync' END",
            "kind": "CASE step WHEN 1 THEN 'credentials_changed' ELSE 'contacts_synced' END",
            "message": "CASE step WHEN 1 THEN 'The AFAS token and eConnect keys were set.' "
            "ELSE 'Debtors and creditors read from AFAS.' END",
        },
        f"FROM {Environment._meta.db_table} e CROSS JOIN generate_series(1, 2) AS step ORDER BY 1",
        {"now": now},
    )
    return rows


def _use_real_documents(cursor, seeded: Seeded) -> tuple[int, int]:
    """The invoices whose pages are measured carry a real UBL (the others a placeholder): the newest delivered
    invoice of the busiest environment, and the newest held duplicate of the big firm with its original."""
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    ubl = DETAIL_UBL.read_bytes()
    outgoing = (
        OutgoingInvoice.objects.filter(environment_id=seeded.busiest_environment_id, status="delivered")
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
    incoming = (
        IncomingInvoice.objects.filter(environment__organisation__firm_id=seeded.big_firm_id, status="held",
                                       hold_reason="duplicate", duplicate_of__isnull=False)
        .order_by("-created_at")
        .values_list("pk", "duplicate_of_id")
        .first()
    )  # fmt: skip
    cursor.execute(f"UPDATE {OutgoingInvoice._meta.db_table} SET ubl = %s WHERE id = %s", [ubl, outgoing])
    if incoming:
        cursor.execute(f"UPDATE {IncomingInvoice._meta.db_table} SET raw_xml = %s WHERE id = ANY(%s)",
                       [ubl, list(incoming)])  # fmt: skip
    return outgoing, incoming[0] if incoming else 0


def seed(*, scale: Scale, now: datetime, random_seed: float = 0.42, rebuild_indexes: bool = True) -> Seeded:
    """Everything the pages read, for two firms. PostgreSQL only; runs in one transaction (no VACUUM here)."""
    from django.db import connection, transaction

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    seconds: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        started = time.perf_counter()
        yield
        seconds[name] = time.perf_counter() - started

    with transaction.atomic(), connection.cursor() as cursor:
        # Django's foreign keys are deferred; checked at each statement's end, no index build waits on them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(%s)", [random_seed])
        with stage("firms, organisations, environments"):
            big, small, users, environments = _seed_firms(scale, now)
        with stage("contacts"):
            _seed_contacts(cursor, [e.pk for group in environments for e in group], now)
            _seed_helper_tables(cursor, big.pk, small.pk)
        small_out = max(1, round(scale.outgoing * scale.small_share))
        small_in = max(1, round(scale.incoming * scale.small_share))
        for model, total, small_count, name in (
            (OutgoingInvoice, scale.outgoing, small_out, "outgoing invoices"),
            (IncomingInvoice, scale.incoming, small_in, "incoming invoices"),
        ):
            table = model._meta.db_table
            with stage(name):
                with _secondary_indexes_rebuilt(cursor, table) if rebuild_indexes else _nothing():
                    _seed_invoices(cursor, model=model, firm_id=big.pk, organisations=scale.organisations,
                                   first=1, count=total - small_count, now=now)  # fmt: skip
                    _seed_invoices(cursor, model=model, firm_id=small.pk, organisations=scale.small_organisations,
                                   first=total - small_count + 1, count=small_count, now=now)  # fmt: skip
        with stage("duplicates linked, events"):
            _link_duplicates(cursor)
            cursor.execute(f"ANALYZE {OutgoingInvoice._meta.db_table}; ANALYZE {IncomingInvoice._meta.db_table}")
            _seed_events(cursor, now)
        cursor.execute(
            f"""SELECT environment_id FROM {OutgoingInvoice._meta.db_table} o
                JOIN bench_env e ON e.env_id = o.environment_id AND e.firm_id = %s
                WHERE o.created_at > %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""",
            [big.pk, now - timedelta(days=30)],
        )
        busiest = cursor.fetchone()[0]
        seeded = Seeded(big.pk, small.pk, users[0].pk, users[1].pk, busiest, seconds)
        seeded.detail_ids = _use_real_documents(cursor, seeded)
    return seeded


@contextmanager
def _nothing():
    yield


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def seeded_again(now: datetime) -> Seeded | None:
    """What a kept database holds (``--reuse-db``), or None when it was never seeded."""
    from django.db import connection

    from portal.accounts.models import Membership
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Firm
    from portal.outgoing_invoices.models import OutgoingInvoice

    firms = {firm.name: firm.pk for firm in Firm.objects.filter(name__in=(BIG_FIRM, SMALL_FIRM))}
    if len(firms) != 2:
        return None
    users = {m.firm_id: m.user_id for m in Membership.objects.filter(firm_id__in=firms.values())}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT o.environment_id FROM {OutgoingInvoice._meta.db_table} o
                WHERE o.created_at > %s AND o.environment_id IN (SELECT e.id FROM organisations_environment e
                    JOIN organisations_organisation g ON g.id = e.organisation_id WHERE g.firm_id = %s)
                GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""",
            [now - timedelta(days=30), firms[BIG_FIRM]],
        )
        busiest = cursor.fetchone()[0]
    seeded = Seeded(firms[BIG_FIRM], firms[SMALL_FIRM], users[firms[BIG_FIRM]], users[firms[SMALL_FIRM]], busiest)
    ubl = DETAIL_UBL.read_bytes()
    outgoing = OutgoingInvoice.objects.filter(ubl=ubl).values_list("pk", flat=True).order_by("-pk").first() or 0
    incoming = (
        IncomingInvoice.objects.filter(raw_xml=ubl, status="held").values_list("pk", flat=True).order_by("-pk").first()
        or 0
    )
    seeded.detail_ids = (outgoing, incoming)
    return seeded


# --- measuring ----------------------------------------------------------------------------------------------------


class _Links(HTMLParser):
    """Every ``<a href>`` with its rel, aria-label and text, every ``<select>``'s option values, every checkbox."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []
        self.options: dict[str, list[tuple[str, str]]] = {}
        self.checkboxes: list[tuple[str, str]] = []
        self._link: dict | None = None
        self._select: str | None = None
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self._link = {"href": attributes["href"], "rel": attributes.get("rel") or "",
                          "label": attributes.get("aria-label") or "", "text": ""}  # fmt: skip
            self.links.append(self._link)
        elif tag == "select":
            self._select = attributes.get("name") or ""
        elif tag == "input" and attributes.get("type") == "checkbox" and attributes.get("name"):
            self.checkboxes.append((attributes["name"], attributes.get("value") or "on"))
        elif tag == "option" and self._select is not None:
            self._option = [attributes.get("value") or "", ""]
            self.options.setdefault(self._select, []).append(self._option)  # type: ignore[arg-type]

    def handle_endtag(self, tag):
        if tag == "a":
            self._link = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None

    def handle_data(self, data):
        if self._link is not None:
            self._link["text"] += data
        if self._option is not None:
            self._option[1] += data


def parse_page(content: str) -> _Links:
    parser = _Links()
    parser.feed(content)
    return parser


def older_link(page: _Links) -> str | None:
    """The keyset link to older invoices: rel="next", or a link saying older (Ouder)."""
    for link in page.links:
        words = f"{link['rel']} {link['label']} {link['text']}".lower()
        if "next" in link["rel"].lower() or re.search(r"\bolder\b|\bouder", words):
            return html.unescape(link["href"])
    return None


def detail_link(page: _Links, area: str, pk: int) -> str | None:
    """The URL of invoice ``pk``, shaped like the invoice links on the list page of ``area`` (/outbox/ or /inbox/)."""
    for link in page.links:
        href = html.unescape(link["href"]).split("?")[0]
        match = re.search(rf"^(.*/{area}/)(\d+)(/?)$", href)
        if match:
            return f"{match.group(1)}{pk}{match.group(3)}"
    return None


def held_duplicates_query(page: _Links) -> str:
    """The inbox filter for held duplicates, as the page's own filter form offers it: a checkbox or a choice."""
    for name, value in page.checkboxes:
        if "duplicate" in name:
            return f"{name}={value}"
    for name, options in page.options.items():
        values = [value for value, _text in options]
        for wanted in ("held_duplicate", "duplicate", "held"):
            for value in values:
                if wanted in value:
                    return f"{name}={value}"
    return "status=held"


@dataclass
class Measured:
    label: str
    url: str | None
    timings: list[float] = field(default_factory=list)
    status_code: int = 0
    queries: list[tuple[str, tuple, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes: int = 0

    @property
    def p95(self) -> float:
        return percentile(self.timings, 0.95) if self.timings else 0.0

    @property
    def slowest(self) -> tuple[str, tuple, float] | None:
        return max(self.queries, key=lambda query: query[2]) if self.queries else None


class TimedQueries:
    """The SQL, parameters and milliseconds of every query run inside ``connection.execute_wrapper``."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, tuple(params or ()), (time.perf_counter() - started) * 1000))


# A page whose first runs all take more than twice the budget is measured this many times only; one whose first
# request takes more than HOPELESS times the budget, once.
EARLY_RUNS = 5
HOPELESS = 10
PLAN_LINES = 70
INVOICE_TABLES = ("outgoing_invoices_outgoinginvoice", "incoming_invoices_incominginvoice")


def rows_read(sql: str, params: tuple) -> int:
    """How many rows of the invoice tables a query reads (EXPLAIN ANALYZE: rows out plus rows filtered away)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict) -> int:
        total = 0
        if node.get("Relation Name") in INVOICE_TABLES:
            loops = node.get("Actual Loops", 1)
            total += (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                      + node.get("Rows Removed by Index Recheck", 0)) * loops  # fmt: skip
        return total + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def measure(client, item: Measured, *, runs: int, warmup: int, count_rows: int, budget_ms: float) -> None:
    from django.db import connection

    first = TimedQueries()
    started = time.perf_counter()
    with connection.execute_wrapper(first):
        response = client.get(item.url)
    first_ms = (time.perf_counter() - started) * 1000
    item.status_code = response.status_code
    item.bytes = len(response.content)
    if response.status_code != 200:
        item.problems.append(f"HTTP {response.status_code}")
        return
    if first_ms > HOPELESS * budget_ms:
        # Seconds per request: one figure is enough to say FAIL, and the queries of that request say why.
        item.timings, item.queries = [first_ms], first.queries
        return
    for _ in range(warmup):
        client.get(item.url)
    for _ in range(runs):
        started = time.perf_counter()
        client.get(item.url)
        item.timings.append((time.perf_counter() - started) * 1000)
        if len(item.timings) == EARLY_RUNS and min(item.timings) > 2 * budget_ms:
            break  # far over the budget whatever the remaining runs say: do not spend minutes on it
    log = TimedQueries()
    with connection.execute_wrapper(log):
        client.get(item.url)
    item.queries = log.queries
    for sql, params, _ms in log.queries:
        if re.search(r"\bCOUNT\(", sql, re.IGNORECASE) and any(table in sql for table in INVOICE_TABLES):
            read = rows_read(sql, params)
            if read > count_rows:
                item.problems.append(f"a COUNT reads {read:,} invoice rows (a full-table count): {sql[:200]}")


def explain_bounded(sql: str, params: tuple, *, seconds: int = 120) -> str:
    """EXPLAIN (ANALYZE, BUFFERS), or the plan alone when running the query takes longer than ``seconds``."""
    from django.db import connection, transaction
    from django.db.utils import OperationalError

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{seconds}s'")
            return explain(sql, params)
    except OperationalError:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        return f"(EXPLAIN only: running it took more than {seconds} s)\n{plan}"


def _get(client, url: str) -> str:
    response = client.get(url)
    return response.content.decode(errors="replace") if response.status_code == 200 else ""


def pages_to_measure(big_client, small_client, seeded: Seeded) -> list[tuple[Measured, object]]:
    """The pages, each with the client that asks for it; the links a page should have are taken from the page."""
    from django.urls import reverse
    from django.utils import timezone

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    dashboard, outbox, inbox = reverse("web:home"), reverse("web:outbox"), reverse("web:inbox")
    outbox_page = parse_page(_get(big_client, outbox))
    inbox_page = parse_page(_get(big_client, inbox))
    newest = (
        OutgoingInvoice.objects.filter(environment_id=seeded.busiest_environment_id)
        .order_by("-created_at")
        .values_list("invoice_number", "customer_name")
        .first()
    )
    number_prefix = newest[0][:-2]  # the newest hundred invoice numbers of a year, in every environment
    customer = newest[1].split(" ")[0] + " " + newest[1].split(" ")[1]  # e.g. "Bakkerij De"
    # An accountant looking up one invoice of last year by its number: few matches, found far down the list.
    old_number = (
        OutgoingInvoice.objects.filter(environment_id=seeded.busiest_environment_id,
                                       created_at__lt=timezone.now() - timedelta(days=400))
        .order_by("-created_at")
        .values_list("invoice_number", flat=True)
        .first()
    )  # fmt: skip
    incoming_number = (
        IncomingInvoice.objects.filter(environment_id=seeded.busiest_environment_id, status="acknowledged")
        .exclude(invoice_number="")
        .order_by("-created_at")
        .values_list("invoice_number", flat=True)[100]
    )
    older = older_link(outbox_page)
    older_inbox = older_link(inbox_page)
    outgoing_detail = detail_link(outbox_page, "outbox", seeded.detail_ids[0])
    incoming_detail = detail_link(inbox_page, "inbox", seeded.detail_ids[1])
    if older and older.startswith("?"):
        older = outbox + older
    if older_inbox and older_inbox.startswith("?"):
        older_inbox = inbox + older_inbox
    from urllib.parse import quote_plus

    big = [
        Measured("dashboard", dashboard),
        Measured("outbox", outbox),
        Measured("outbox ?environment= (busiest)", f"{outbox}?environment={seeded.busiest_environment_id}"),
        Measured(f"outbox ?q={number_prefix} (number prefix)", f"{outbox}?q={quote_plus(number_prefix)}"),
        Measured(f"outbox ?q={old_number} (a number of last year)", f"{outbox}?q={quote_plus(old_number)}"),
        Measured(f"outbox ?q={customer} (customer)", f"{outbox}?q={quote_plus(customer)}"),
        Measured("outbox older page (its own link)", older),
        Measured("outgoing invoice page", outgoing_detail),
        Measured("inbox", inbox),
        Measured(f"inbox ?{held_duplicates_query(inbox_page)}", f"{inbox}?{held_duplicates_query(inbox_page)}"),
        Measured(f"inbox ?q={incoming_number} (number)", f"{inbox}?q={quote_plus(incoming_number)}"),
        Measured("inbox older page (its own link)", older_inbox),
        Measured("incoming invoice page (held duplicate)", incoming_detail),
    ]
    small = [Measured("small firm: outbox", outbox), Measured("small firm: inbox", inbox)]
    return [(item, big_client) for item in big] + [(item, small_client) for item in small]


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone

    from portal.accounts.models import User
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    call_command("migrate", verbosity=0)
    now = timezone.now()
    seeded = seeded_again(now) if args.reuse_db else None
    if seeded is not None:
        # Migrations run since the seeding may have added expression indexes: without statistics on their
        # expressions the planner misjudges (as it would in production until autovacuum's next ANALYZE).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if seeded is None:
        scale = Scale(organisations=args.organisations, outgoing=args.outgoing, incoming=args.incoming)
        print(f"Seeding a firm with {scale.organisations} organisations x {len(ENVIRONMENT_TYPES)} environments, "
              f"{scale.outgoing:,} outgoing and {scale.incoming:,} incoming invoices (both firms) ...", flush=True)  # fmt: skip
        started = time.perf_counter()
        seeded = seed(scale=scale, now=now)
        loaded = time.perf_counter() - started
        vacuum_started = time.perf_counter()
        vacuum_analyze()
        seeded.seconds["VACUUM ANALYZE"] = time.perf_counter() - vacuum_started
        for stage, seconds in seeded.seconds.items():
            print(f"  {stage:40}{seconds:8.1f} s")
        print(f"  {'seeded in':40}{loaded + seeded.seconds['VACUUM ANALYZE']:8.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    # Cheap figures only: the planner's row estimates, not COUNT(*) over a million rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [[OutgoingInvoice._meta.db_table, IncomingInvoice._meta.db_table]],
        )
        estimates = dict(cursor.fetchall())

    big_client, small_client = Client(raise_request_exception=False), Client(raise_request_exception=False)
    big_client.force_login(User.objects.get(pk=seeded.big_user_id))
    small_client.force_login(User.objects.get(pk=seeded.small_user_id))
    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        pages = pages_to_measure(big_client, small_client, seeded)
        pages = [(item, client) for item, client in pages if not args.only or args.only in item.label]
        for item, client in pages:
            if item.url is None:
                item.problems.append("no link to it on its list page")
                continue
            print(f"  measuring {item.label} ...", flush=True)
            measure(
                client, item, runs=args.runs, warmup=args.warmup, count_rows=args.count_rows, budget_ms=args.budget_ms
            )

    print()
    print(f"Pages of a firm with {args.organisations} organisations, ~{estimates.get(INVOICE_TABLES[0], 0):,} outgoing "
          f"and ~{estimates.get(INVOICE_TABLES[1], 0):,} incoming invoices; PostgreSQL "
          f"{connection.pg_version // 10000}, database {size}; budget p95 < {args.budget_ms} ms")  # fmt: skip
    print()
    print(f"  {'page':48}{'HTTP':>5}{'runs':>5}{'median':>8}{'p95':>8}{'max':>8}{'queries':>8}{'slowest q':>10}"
          f"{'KB':>6}  verdict")  # fmt: skip
    failing: list[Measured] = []
    for item, _client in pages:
        if item.timings and item.p95 >= args.budget_ms:
            item.problems.append(f"p95 {item.p95:.0f} ms is over the budget of {args.budget_ms} ms")
        slowest = item.slowest
        verdict = "PASS" if not item.problems else "FAIL"
        if item.problems:
            failing.append(item)
        if item.timings:
            print(f"  {item.label[:47]:48}{item.status_code:5d}{len(item.timings):5d}"
                  f"{statistics.median(item.timings):8.1f}{item.p95:8.1f}{max(item.timings):8.1f}{len(item.queries):8d}"
                  f"{slowest[2] if slowest else 0:10.1f}{item.bytes / 1024:6.0f}  {verdict}")  # fmt: skip
        else:
            print(f"  {item.label[:47]:48}{item.status_code or '-':>5}{'':5}{'':8}{'':8}{'':8}{'':8}{'':10}{'':6}  "
                  f"{verdict}")  # fmt: skip
    print("  (milliseconds of server time: the request through the whole Django stack, in process)")
    print()
    for item in failing:
        print(f"FAIL {item.label} ({item.url}):")
        for problem in item.problems:
            print(f"  - {problem}")
        if item.slowest and item.p95 >= args.budget_ms:
            sql, params, ms = item.slowest
            print(f"  slowest query ({ms:.1f} ms): {sql[:400]}{' ...' if len(sql) > 400 else ''}")
            plan = explain_bounded(sql, params).splitlines()
            if len(plan) > PLAN_LINES:  # a UNION over 600 environments has 600 sub-plans alike: show the first ones
                plan = [*plan[: PLAN_LINES - 5], f"... ({len(plan) - PLAN_LINES} lines left out) ...", *plan[-4:]]
            plan = "\n".join(plan)
            print("\n".join("    | " + line for line in plan.splitlines()))
        print()
    if args.show_queries:
        for item, _client in pages:
            print(f"== {item.label}")
            for sql, _params, ms in item.queries:
                print(f"  {ms:7.1f} ms  {sql[:300]}")
    if not failing:
        print(f"  Every page answers under {args.budget_ms} ms at the 95th percentile, without full-table counts.")
    return 1 if failing else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--outgoing", type=int, default=1_000_000)
    parser.add_argument("--incoming", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=300)
    parser.add_argument("--count-rows", type=int, default=200_000,
                        help="a COUNT over the invoice tables reading more rows than this is a full-table count")  # fmt: skip
    parser.add_argument("--show-queries", action="store_true", help="print every page's SQL with its time")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this text")


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="portal_pages",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
        reusable=True,
    )


if __name__ == "__main__":
    sys.exit(main())
