"""``manage.py documents verify|expire``: the integrity and retention of stored documents (portal/documents/retention.py)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from portal.documents import retention

MAX_IDS_SHOWN = 1000


class Command(BaseCommand):
    help = "Stored documents: verify their SHA-256, or remove those whose retention period is over."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,expire}")

        verify = subparsers.add_parser(
            "verify",
            help="Recompute the SHA-256 of every stored document; exit 1 on any mismatch or missing document.",
        )
        verify.add_argument("--environment", type=int, metavar="ID", help="Only the documents of this environment.")
        verify.add_argument("--batch-size", type=int, default=retention.VERIFY_BATCH_SIZE, help="Rows per fetch.")

        expire = subparsers.add_parser(
            "expire", help="Remove the documents whose retention period is over (metadata and SHA-256 stay)."
        )
        expire.add_argument("--dry-run", action="store_true", help="Only list what would be removed.")
        expire.add_argument("--environment", type=int, metavar="ID", help="Only the documents of this environment.")
        expire.add_argument(
            "--limit",
            type=int,
            default=retention.EXPIRE_LIMIT_PER_RUN,
            help=f"At most this many documents of each kind (default {retention.EXPIRE_LIMIT_PER_RUN}).",
        )
        expire.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="With --dry-run: what would be removed on this day.",
        )

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            self._verify(options)
        else:
            self._expire(options)

    def _verify(self, options) -> None:
        report = retention.documents_verify(environment_id=options["environment"], batch_size=options["batch_size"])
        for kind, counts in [*report.counts.items(), ("total", report.total)]:
            self.stdout.write(
                f"{kind:>8}: checked {counts.checked}, ok {counts.ok}, mismatched {counts.mismatched}, "
                f"missing {counts.missing}, removed after retention {counts.removed}"
            )
        total = report.total
        rate = total.checked / report.seconds if report.seconds else 0.0
        self.stdout.write(
            f"{total.checked} documents ({total.bytes / 1_000_000:.1f} MB) in {report.seconds:.2f} s "
            f"({rate:,.0f} documents/s)"
        )
        for label, ids in (("mismatched", report.mismatched), ("missing", report.missing)):
            if ids:
                shown = ", ".join(f"{kind} {pk}" for kind, pk in ids[:MAX_IDS_SHOWN])
                more = f" (and {len(ids) - MAX_IDS_SHOWN} more)" if len(ids) > MAX_IDS_SHOWN else ""
                self.stdout.write(f"{label}: {shown}{more}")
        if not report.intact:
            raise CommandError(
                f"Integrity check failed: {total.mismatched} mismatched, {total.missing} missing.", returncode=1
            )
        self.stdout.write(self.style.SUCCESS("All stored documents match their SHA-256."))

    def _expire(self, options) -> None:
        if options["as_of"] and not options["dry_run"]:
            raise CommandError("--as-of only previews: use it with --dry-run.")
        result = retention.documents_expire(
            today=options["as_of"],
            environment_id=options["environment"],
            limit=options["limit"],
            dry_run=options["dry_run"],
        )
        verb = "would remove" if result.dry_run else "removed"
        for document in result.documents:
            self.stdout.write(f"{verb}: {document.describe()}")
        self.stdout.write(
            f"{verb} {result.count('outgoing')} outgoing and {result.count('incoming')} incoming documents issued and "
            f"stored before {result.cutoff.isoformat()} (retention {retention.retention_years()} years"
            f"{'; limit reached, more remain' if result.limit_reached else ''})"
        )
