"""Security headers on every response, and pages that work under a Content-Security-Policy without inline code."""

import json
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.portal.core.test_settings import production_env, run_manage
from tests.portal.test_admin_pages import PORTAL_MODELS
from tests.portal.test_admin_pages import data as admin_data  # noqa: F401 - one of each admin object (autouse)
from tests.portal.web.test_access_walk import WEB_URLS, logged_in, url_for

EXPECTED_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# A script element without src, except JSON data blocks (json_script), which are never executed.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=\s*[\"'][^\"']*[\"']", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
# django-celery-beat's periodic task form explains a crontab in words with an inline script; under the policy the
# form works without that explanation. Not ours to change.
KNOWN_ADMIN_INLINE_SCRIPTS = ('<script id="periodic-task-overrides">',)

pytestmark = pytest.mark.django_db


def inline_code(html: str, *, allowed_styles=(), allowed_scripts=()) -> list[str]:
    """Everything in a page that a CSP without 'unsafe-inline' blocks."""
    found = [match for match in INLINE_SCRIPT.findall(html) if match not in allowed_scripts]
    found += EVENT_HANDLER.findall(html) + JAVASCRIPT_URL.findall(html) + STYLE_ELEMENT.findall(html)
    found += [match for match in STYLE_ATTRIBUTE.findall(html) if not any(ok in match for ok in allowed_styles)]
    return found


def test_a_page_carries_the_content_security_policy_and_frame_denial(client):
    response = client.get(reverse("login"))

    assert response["Content-Security-Policy"] == EXPECTED_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_and_the_health_check_carry_the_policy_too(support_client):
    for url in (reverse("admin:index"), reverse("healthz")):
        assert support_client.get(url)["Content-Security-Policy"] == EXPECTED_POLICY


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    page = client.get(reverse("login")).content.decode()

    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert meta and json.loads(meta.group(1))["includeIndicatorStyles"] is False


def test_no_page_of_the_portal_has_inline_scripts_handlers_or_styles(firm_admin_membership):
    """The firm admin sees every page; each one rendered must work under the policy."""
    client = logged_in(firm_admin_membership, raise_request_exception=False)  # a broken page is not this test's
    checked, offenders = 0, {}
    for name in sorted(WEB_URLS):
        response = client.get(url_for(name, firm_admin_membership.firm))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        checked += 1
        if found := inline_code(response.content.decode()):
            offenders[name] = found
    for url in (reverse("login"), reverse("login_code")):
        if found := inline_code(Client().get(url).content.decode()):
            offenders[url] = found

    assert checked >= 10
    assert offenders == {}


def test_no_admin_page_has_inline_scripts_or_handlers(support_client):
    offenders, urls = {}, [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if admin.site._registry[model].has_add_permission(request_for(support_client)):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        if model in PORTAL_MODELS and (obj := model._default_manager.first()) is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    for url in urls:
        response = support_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        if found := inline_code(html, allowed_scripts=KNOWN_ADMIN_INLINE_SCRIPTS):
            offenders[url] = found

    assert len(urls) > 20
    assert offenders == {}


def request_for(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = client.get(reverse("admin:index")).wsgi_request.user
    return request


@pytest.mark.slow
def test_production_sends_hsts_secure_cookies_and_the_policy_and_logs_json(tmp_path):
    """In a fresh process with DEBUG off: what a browser receives over https, and the log format."""
    script = (
        "import json; from django.conf import settings; from django.test import Client, override_settings;"
        "override_settings(STORAGES={**settings.STORAGES, 'staticfiles': {'BACKEND':"
        " 'django.contrib.staticfiles.storage.StaticFilesStorage'}}).enable();"  # no collectstatic manifest here
        "r = Client().get('/accounts/login/', secure=True, headers={'host': 'portal.example.nl'});"
        "c = r.cookies['csrftoken'];"
        "print(json.dumps({'status': r.status_code, 'hsts': r.get('Strict-Transport-Security'),"
        " 'csp': r.get('Content-Security-Policy'), 'frame': r.get('X-Frame-Options'),"
        " 'csrf_secure': bool(c['secure']), 'session_secure': settings.SESSION_COOKIE_SECURE,"
        " 'session_httponly': settings.SESSION_COOKIE_HTTPONLY, 'log_format': settings.LOG_FORMAT,"
        " 'formatter': settings.LOGGING['handlers']['console']['formatter'],"
        " 'redirect': Client().get('/accounts/login/', headers={'host': 'portal.example.nl'}).status_code}))"
    )

    result = run_manage(production_env(tmp_path), "shell", "-c", script)

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csp"] == EXPECTED_POLICY
    assert seen["frame"] == "DENY"
    assert seen["csrf_secure"] and seen["session_secure"] and seen["session_httponly"]
    assert seen["redirect"] == 301  # plain http is sent to https
    assert seen["log_format"] == seen["formatter"] == "json"
