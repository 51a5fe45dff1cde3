from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext_lazy as _

from portal.core.validators import MAX_REASON_LENGTH, reason_too_long


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
    reason = request.POST.get("reason", "").strip()
    if required and not reason:
        model_admin.message_user(
            request, "Give the reason in the 'Reason' field: it is kept in the timeline.", messages.ERROR
        )
        return None
    problem = reason_too_long(reason)
    if problem:
        model_admin.message_user(request, problem, messages.ERROR)
        return None
    return reason
