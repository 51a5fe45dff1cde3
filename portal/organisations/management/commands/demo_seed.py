from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.demo_data import NEW_CLIENT
from portal.organisations.demo import demo_seed


class Command(BaseCommand):
    help = "Load the demo firm, clients, environments and logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Seed even though DEBUG is off.")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: demo logins do not belong in production. Use --force if you mean it.")
        logins = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Accountant (web portal): {logins.accountant[0]} / {logins.accountant[1]}")
        self.stdout.write(f"  Support (admin at /admin/): {logins.support[0]} / {logins.support[1]}")
        client = NEW_CLIENT
        self.stdout.write(
            f"  To try onboarding: add client {client.organisation_name} (KvK {client.organisation_kvk}), AFAS "
            f"participant {client.participant} ({client.environment_type}, Profit), AFAS token "
            f"{client.afas_token}, eConnect App Key {client.econnect_app_key} and Secret {client.econnect_app_secret}; "
            "its setup checklist then shows each next step."
        )
