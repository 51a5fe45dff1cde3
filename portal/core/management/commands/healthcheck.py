from django.core.management.base import BaseCommand, CommandError

from portal.core.health import health_report


class Command(BaseCommand):
    help = "Check the database, broker and encryption key, as /healthz does; exits non-zero when one fails."

    requires_system_checks = []

    def handle(self, *args, **options):
        report = health_report()
        for name, result in report.items():
            state = "FAILING" if not result.ok else "DEGRADED" if result.degraded else "ok"
            self.stdout.write(f"{name}: {state} ({result.detail})")
        failing = [name for name, result in report.items() if not result.ok]
        if failing:
            raise CommandError(f"Failing: {', '.join(failing)}")
