from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "portal.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # The tasks register under their names, which the document lifecycle enqueues by (services never import them).
        from . import tasks  # noqa: F401
