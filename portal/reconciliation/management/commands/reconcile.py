from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from portal.organisations.models import Environment
from portal.reconciliation.models import ReconciliationFinding
from portal.reconciliation.services import ReconciliationBusy, reconciliation_run_now


class Command(BaseCommand):
    help = (
        "Reconcile eConnect (outbox and inbox), the portal and AFAS now, for one environment or all that send or "
        "receive, and print what was compared and found. The nightly run does the same from 02:00."
    )

    def add_arguments(self, parser):
        parser.add_argument("--environment", type=int, action="append", help="Environment id (repeatable).")
        parser.add_argument("--all", action="store_true", help="Every environment with sending or receiving on.")

    def handle(self, *args, **options):
        if options["environment"]:
            environments = list(Environment.objects.filter(pk__in=options["environment"]).order_by("pk"))
        elif options["all"]:
            environments = list(
                Environment.objects.filter(Q(sending_enabled=True) | Q(receiving_enabled=True)).order_by("pk")
            )
        else:
            raise CommandError("Name an environment (--environment ID) or use --all.")
        failed = 0
        for environment in environments:
            started = time.perf_counter()
            try:
                run = reconciliation_run_now(environment=environment)
            except ReconciliationBusy as exc:
                self.stdout.write(self.style.WARNING(str(exc)))
                continue
            seconds = time.perf_counter() - started
            counts = ", ".join(f"{name} {value}" for name, value in sorted(run.counts.items()))
            self.stdout.write(
                f"environment {environment.pk} ({environment}): run {run.pk} {run.status} in {seconds:.2f} s; "
                f"compared: {counts or '-'}; findings opened {run.findings_opened}, open {run.findings_still_open}, "
                f"resolved {run.findings_resolved}" + ("; TRUNCATED" if run.truncated else "")
            )
            if run.error:
                failed += 1
                self.stdout.write(self.style.ERROR(f"  failed: {run.error}"))
            for finding in ReconciliationFinding.objects.filter(
                environment=environment, status=ReconciliationFinding.Status.OPEN
            ).order_by("pk"):
                self.stdout.write(f"  #{finding.pk} {finding.kind}: {finding.key} {finding.details}")
        if failed:
            raise CommandError(f"{failed} reconciliation run(s) failed.")
