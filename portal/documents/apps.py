from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """What sending and receiving share: the lifecycle, retention and integrity of stored documents."""

    name = "portal.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registered by name for the schedules)
