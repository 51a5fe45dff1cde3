"""``manage.py afas check-setup ENV``: check a client's AFAS setup (portal/organisations/afas_setup.py).

ENV is the environment's id, or its participant number (with ``--type`` when it has several environments). Prints
each missing connector, field or right with the action in AFAS, then the warnings; exit 1 when something is missing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from portal.events.messages import Msg
from portal.organisations.afas_setup import Severity, afas_check_setup
from portal.organisations.models import Environment


class Command(BaseCommand):
    help = "Check a client's AFAS setup: connectors, fields, rights and data the portal relies on."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="{check-setup}")
        check = subparsers.add_parser("check-setup", help="Check one environment's AFAS setup; exit 1 if incomplete.")
        check.add_argument("environment", help="The environment's id or AFAS participant number.")
        check.add_argument("--type", choices=Environment.Type.values, help="With a participant number: which one.")
        check.add_argument("--language", choices=("en", "nl"), default="en")

    def handle(self, *args, **options):
        environment = _environment(options["environment"], options.get("type"))
        with translation.override(options["language"]):
            report = afas_check_setup(environment=environment)
            self.stdout.write(f"AFAS setup of {environment}")
            if report.failure:
                raise CommandError(f"AFAS could not be asked: {report.failure}")
            for finding in report.findings:
                label = "MISSING" if finding.severity is Severity.MISSING else "warning"
                self.stdout.write(f"  {label:<8} {finding.key}: {Msg.from_data(finding.message.as_data()).render()}")
            if report.subject_types:
                types = ", ".join(f"{number} {name}".strip() for number, name in report.subject_types)
                self.stdout.write(f"  dossier item types seen: {types}")
            if not report.ok:
                raise CommandError(f"{len(report.missing)} item(s) missing in AFAS; see above.")
            self.stdout.write(self.style.SUCCESS("  everything the portal reads and writes is there"))


def _environment(value: str, environment_type: str | None) -> Environment:
    environments = Environment.objects.select_related("organisation")
    if value.isdigit() and len(value) < 5:
        found = environments.filter(pk=int(value))
    else:
        found = environments.filter(afas_participant_number=value)
        if environment_type:
            found = found.filter(afas_environment_type=environment_type)
    matches = list(found[:2])
    if not matches:
        raise CommandError(f"No environment {value!r}: give its id or AFAS participant number.")
    if len(matches) > 1:
        raise CommandError(f"Participant {value} has several environments: add --type production|test|accept.")
    return matches[0]
