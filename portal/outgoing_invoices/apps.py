from django.apps import AppConfig


class OutgoingInvoicesConfig(AppConfig):
    name = "portal.outgoing_invoices"
    label = "outgoing_invoices"
    verbose_name = "Outbox (sales invoices)"

    def ready(self) -> None:
        # The tasks register under their names, which the document lifecycle enqueues by (services never import them).
        from . import tasks  # noqa: F401
