"""Onboarding many clients at once: upload a CSV, see per row what it will create or what is wrong, create."""

from __future__ import annotations

from django import forms
from django.core import signing
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portal.organisations.bulk_import import (
    COLUMN_HELP,
    MAX_FILE_BYTES,
    TEMPLATE_ROWS,
    ImportRefused,
    import_create,
    plan_from_data,
    plan_import,
)
from portal.web.access import firm_admin_required
from portal.web.downloads import csv_download

SIGNING_SALT = "portal.onboarding.import"
PLAN_MAX_AGE = 60 * 60  # seconds a checked file may wait for "create"


class ImportFileForm(forms.Form):
    # Its size is checked by plan_import, which reads at most one byte more than it allows.
    file = forms.FileField(label=gettext_lazy("CSV file"), allow_empty_file=False)


def _page(request, **context):
    return render(request, "web/onboarding_import.html", {"column_help": COLUMN_HELP, **context})


@firm_admin_required
def onboarding_import(request):
    """GET: the upload form. POST: the file checked row by row, nothing created yet."""
    if request.method != "POST":
        return _page(request, form=ImportFileForm())
    form = ImportFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form)
    upload = form.cleaned_data["file"]
    try:
        plan = plan_import(firm=request.firm, content=upload.read(MAX_FILE_BYTES + 1))
    except ImportRefused as exc:
        form.add_error("file", exc.message)
        return _page(request, form=form)
    name = upload.name[:100]
    token = signing.dumps(
        {"firm": request.firm.pk, "file": name, "rows": [row.as_data() for row in plan.valid]},
        salt=SIGNING_SALT,
        compress=True,
    )
    return _page(request, plan=plan, file_name=name, token=token)


@require_POST
@firm_admin_required
def onboarding_import_create(request):
    """Create the rows that were valid, checked again now."""
    try:
        checked = signing.loads(request.POST.get("plan", ""), salt=SIGNING_SALT, max_age=PLAN_MAX_AGE)
    except signing.BadSignature:
        return _page(
            request,
            form=ImportFileForm(),
            stale=_("The checked file has expired or was changed: upload it again."),
        )
    if checked.get("firm") != request.firm.pk:
        return _page(request, form=ImportFileForm(), stale=_("Upload the file again."))
    plan = plan_from_data(firm=request.firm, data=checked.get("rows", []))
    result = import_create(firm=request.firm, plan=plan, actor=request.user, file_name=checked.get("file", ""))
    return _page(request, result=result, file_name=checked.get("file", ""))


@require_GET
@firm_admin_required
def onboarding_import_template(request):
    return csv_download(request, TEMPLATE_ROWS, "peppol-bridge-clients.csv")


urlpatterns = [
    path("onboarding/import/", onboarding_import, name="onboarding_import"),
    path("onboarding/import/create/", onboarding_import_create, name="onboarding_import_create"),
    path("onboarding/import/template.csv", onboarding_import_template, name="onboarding_import_template"),
]
