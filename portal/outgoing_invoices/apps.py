from django.apps import AppConfig


class OutgoingInvoicesConfig(AppConfig):
    name = "portal.outgoing_invoices"
    label = "outgoing_invoices"
    verbose_name = "Outbox (sales invoices)"
