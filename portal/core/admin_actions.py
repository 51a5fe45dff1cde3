from __future__ import annotations

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _


class ReasonActionForm(ActionForm):
    """Admin actions that change a document ask for the reason, which the timeline keeps."""

    reason = forms.CharField(required=False, label=_("Reason (kept in the timeline)"), max_length=500)
