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
    degraded = [name for name, result in report.items() if result.ok and result.degraded]
    return JsonResponse(
        {
            "status": "failing" if failing else "degraded" if degraded else "ok",
            "failing": failing,
            "degraded": degraded,
            "reasons": [report[name].detail for name in degraded],
            "checks": {
                name: {"ok": result.ok, "degraded": result.degraded, "detail": result.detail}
                for name, result in report.items()
            },
        },
        status=503 if failing else 200,
    )
