from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from portal.organisations.dashboard import dashboard_for_firm
from portal.web.access import firm_member_required
from portal.web.dashboard import chart_for, row_views

# Rows shown per page. Every environment's figures are counted (the order and the summary need them all); only the
# rendering is paged, which with hundreds of environments is most of the page's time.
ROWS_PER_PAGE = 50


@require_GET
@firm_member_required
def home(request):
    dashboard = dashboard_for_firm(firm=request.firm)
    page = Paginator(dashboard.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/home.html",
        {
            "dashboard": dashboard,
            "page": page,
            "rows": row_views(page.object_list),
            # The setup of the environments on this page that is not finished, with the next step of each.
            "setup_unfinished": [row for row in page.object_list if not row.setup.complete],
            "chart": chart_for(dashboard.days),
            "outbox_url": reverse("web:outbox"),
            "month_start": dashboard.period.today.replace(day=1).isoformat(),
            "inbox_url": reverse("web:inbox"),
        },
    )


urlpatterns = [
    path("", home, name="home"),
]
