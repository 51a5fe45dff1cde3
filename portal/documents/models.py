"""What every document on its way (a sales invoice out, a purchase invoice in) carries for the shared lifecycle:
when its status last changed, its attempts and when the next is due, whether its work is on the queue, and the last
error. ``lifecycle`` reads and writes these fields for both state machines."""

from __future__ import annotations

from django.db import models

from portal.core.choices import ErrorKind
from portal.core.models_base import TimeStampedModel
from portal.events.messages import render_data


class DocumentWork(TimeStampedModel):
    status_changed_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its due work was last put on the queue (not queued again meanwhile)."
    )
    last_error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True)
    last_error_code = models.CharField(max_length=50, blank=True)
    last_error_message = models.TextField(blank=True)
    last_error_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The last error as a message key and parameters (portal.events.catalogue), shown in the reader's "
        "language; empty when the last error is a remote system's own words.",
    )

    class Meta:
        abstract = True

    @property
    def last_error_text(self) -> str:
        """The last error in the reader's language (a remote system's own words as they are)."""
        return render_data(self.last_error_data, self.last_error_message)
