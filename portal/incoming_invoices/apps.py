from django.apps import AppConfig


class IncomingInvoicesConfig(AppConfig):
    name = "portal.incoming_invoices"
    label = "incoming_invoices"
    verbose_name = "Inbox (purchase invoices)"

    def ready(self) -> None:
        # The tasks register under their names, which the document lifecycle enqueues by (services never import them).
        from . import tasks  # noqa: F401
