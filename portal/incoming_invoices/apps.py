from django.apps import AppConfig


class IncomingInvoicesConfig(AppConfig):
    name = "portal.incoming_invoices"
    label = "incoming_invoices"
    verbose_name = "Inbox (purchase invoices)"
