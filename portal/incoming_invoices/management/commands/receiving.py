"""``manage.py receiving backfill ENV --since YYYY-MM-DD --reason "..."``: read an environment's eConnect inbox again
from an earlier date (portal/incoming_invoices/inbox_cursor.py). Recorded in the environment's timeline."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from portal.incoming_invoices.inbox_cursor import BackfillRefused, incoming_backfill
from portal.organisations.models import Environment


class Command(BaseCommand):
    help = "Receiving: read an environment's eConnect inbox again from an earlier date (backfill)."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="{backfill}")
        backfill = subparsers.add_parser("backfill", help="Read the inbox from this date on (00:00 Amsterdam).")
        backfill.add_argument("environment", type=int, help="The environment's id.")
        backfill.add_argument("--since", type=dt.date.fromisoformat, required=True, metavar="YYYY-MM-DD")
        backfill.add_argument("--reason", required=True, help="Why: kept in the environment's timeline.")

    def handle(self, *args, **options):
        environment = Environment.objects.filter(pk=options["environment"]).first()
        if environment is None:
            raise CommandError(f"No environment {options['environment']}.")
        try:
            start = incoming_backfill(
                environment=environment, since=options["since"], actor=None, reason=options["reason"]
            )
        except (BackfillRefused, ValueError) as exc:  # checked_reason refuses with ValueError
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{environment}: the inbox is read from {start.isoformat()} on at the next fetch.")
