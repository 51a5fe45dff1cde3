"""Web request middleware: the correlation id of each request, the Content-Security-Policy of every response, and the
portal's own "not found" page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from integrations.correlation import HEADER, bind_correlation_id, reset_correlation_id


class CorrelationIdMiddleware:
    """Binds a correlation id for the request: the caller's ``X-Correlation-ID`` when acceptable, else a new one.

    Every log line of the request, every task it enqueues and every HTTP call it makes carries the id; the response
    returns it, so a person reporting a problem can quote it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = bind_correlation_id(request.headers.get(HEADER))
        try:
            request.correlation_id = token.var.get()
            response = self.get_response(request)
            response[HEADER] = request.correlation_id
            return response
        finally:
            reset_correlation_id(token)


class ContentSecurityPolicyMiddleware:
    """Sets ``settings.CONTENT_SECURITY_POLICY`` on every response (pages, admin, static) that has none yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class NotFoundPageMiddleware:
    """A page that is not there shows the portal's own "not found" page, also with DEBUG on (``make run``), where
    Django would otherwise show its technical page listing every URL of the portal.

    Without DEBUG, Django renders ``404.html`` itself; this only replaces the technical page, and only for HTML."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not getattr(response, "portal_page", False)
        ):
            response = render(request, "404.html", status=404)
            response.portal_page = True
        return response
