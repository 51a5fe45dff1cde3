from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.accounts import throttling
from portal.accounts.models import LoginFailure


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, refusing attempts while a username or address has too many recent failures.

    The refusal comes before the password is checked and reads the same whether or not the username exists.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed login attempts. Wait a few minutes and try again."),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip_address = throttling.client_ip(self.request)
        if throttling.login_is_locked(username=username, ip_address=ip_address):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            if username:
                throttling.login_failure_record(
                    kind=LoginFailure.Kind.PASSWORD, username=username, ip_address=ip_address
                )
            raise


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )
