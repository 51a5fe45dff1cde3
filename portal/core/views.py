from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal.core.health import health_report


@never_cache
@require_safe
def healthz(request):
    report = health_report()
    failing = [name for name, result in report.items() if not result.ok]
    return JsonResponse(
        {
            "status": "failing" if failing else "ok",
            "failing": failing,
            "checks": {name: {"ok": result.ok, "detail": result.detail} for name, result in report.items()},
        },
        status=503 if failing else 200,
    )
