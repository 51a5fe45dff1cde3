from django.core.management.base import BaseCommand

from portal.core.schedules import periodic_tasks_sync


class Command(BaseCommand):
    help = "Write the portal's periodic tasks (defined in portal/core/schedules.py) into django-celery-beat."

    def handle(self, *args, **options):
        for name in periodic_tasks_sync():
            self.stdout.write(f"scheduled: {name}")
