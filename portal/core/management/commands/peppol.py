import sys

from django.core.management.base import BaseCommand

from portal.core.peppol_cli import check_id, inspect, rules, validate

SUBCOMMANDS = (check_id, inspect, validate, rules)


class Command(BaseCommand):
    help = "Peppol tools: check identifiers, inspect and validate UBL documents, manage the validation rules."

    requires_system_checks = []

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{check-id,inspect,validate,rules}"
        )
        for module in SUBCOMMANDS:
            module.add_parser(subparsers)

    def handle(self, *args, **options):
        status = options["run"](options, self.stdout, self.stderr)
        if status:
            sys.exit(status)
