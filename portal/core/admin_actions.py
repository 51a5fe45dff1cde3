from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from portal.core.validators import MAX_REASON_LENGTH, checked_reason


class ReasonActionForm(ActionForm):
    """Admin actions that change a document ask for the reason, which the timeline keeps."""

    # Bounded by ``action_reason`` (with a message that says so): an invalid action form makes the admin answer only
    # "No action selected".
    reason = forms.CharField(
        required=False,
        label=_("Reason (kept in the timeline)"),
        widget=forms.TextInput(attrs={"maxlength": MAX_REASON_LENGTH}),
    )


def action_reason(model_admin, request, *, required: bool = True) -> str | None:
    """The reason POSTed with an admin action (the action form is not validated by the admin itself); None, with the
    problem told to the person, when it is missing or too long."""
    missing = "Give the reason in the 'Reason' field: it is kept in the timeline." if required else None
    try:
        return checked_reason(request.POST.get("reason", ""), required=missing)
    except ValueError as exc:
        model_admin.message_user(request, str(exc), messages.ERROR)
        return None
