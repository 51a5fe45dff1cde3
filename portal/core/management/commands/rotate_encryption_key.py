from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.core.encryption import canary_status
from portal.core.key_rotation import (
    DEFAULT_BATCH_SIZE,
    RotationIncomplete,
    UndecryptableValues,
    encryption_key_rotate,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (credentials, the encryption canary) with the first key of "
        'FIELD_ENCRYPTION_KEY. Procedure: set FIELD_ENCRYPTION_KEY="new,old" and restart web, worker and beat; run '
        'this command; then set FIELD_ENCRYPTION_KEY="new" and restart. Refuses to change anything if a stored '
        "value decrypts with none of the keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Check and count only; change nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = settings.FIELD_ENCRYPTION_KEY
        try:
            result = encryption_key_rotate(dry_run=dry_run, batch_size=batch_size)
        except (UndecryptableValues, RotationIncomplete) as exc:
            raise CommandError(str(exc)) from exc

        for table in result.tables:
            self.stdout.write(
                f"{table.label} ({', '.join(table.columns)}): {table.rows} rows, {table.values} values, "
                f"{table.under_older_key} under an older key"
            )
        verb = "Would re-encrypt" if dry_run else "Re-encrypted"
        self.stdout.write(
            f"{verb} {result.values} values in {result.rows} rows with the first key "
            f"({result.under_older_key} were under an older key)."
        )
        if len(keys) == 1:
            self.stdout.write("Only one key is configured: there is no older key to retire.")
        if dry_run:
            return
        status = canary_status()
        if not status.ok:
            raise CommandError(f"The encryption canary check failed after the rotation: {status.message}")
        if len(keys) > 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Every value now decrypts with the first key alone: set FIELD_ENCRYPTION_KEY to that key and "
                    f"restart to retire the {len(keys) - 1} older key(s)."
                )
            )
