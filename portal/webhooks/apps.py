from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """eConnect PSB webhooks: each delivery checked, stored before the answer, then processed by a task."""

    name = "portal.webhooks"
    label = "webhooks"
    verbose_name = "eConnect webhooks"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registered by name for the lifecycle's enqueue and the schedules)
