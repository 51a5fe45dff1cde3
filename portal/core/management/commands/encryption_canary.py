from django.core.management.base import BaseCommand, CommandError

from portal.core.encryption import canary_status, canary_write


class Command(BaseCommand):
    help = "Show whether FIELD_ENCRYPTION_KEY decrypts the stored canary, or write a new canary."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write",
            action="store_true",
            help=(
                "Write a new canary with the current key. "
                "Only when the canary is missing and the key is known to be right."
            ),
        )

    def handle(self, *args, write: bool, **options):
        status = canary_status()
        if write:
            if not status.ok_to_start:
                raise CommandError(f"Refusing to overwrite the canary: {status.message}")
            canary_write()
            status = canary_status()
        self.stdout.write(f"{status.state.value}: {status.message}")
        if not status.ok:
            raise CommandError("The encryption canary check failed.")
