from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "portal.reconciliation"
    label = "reconciliation"
    verbose_name = "Reconciliation (eConnect, portal, AFAS)"
