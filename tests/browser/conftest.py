"""Browser tests: the system Chromium, driven by Playwright (sync API), against pytest-django's live server.

What runs where:
- the portal serves from pytest-django's ``live_server`` thread in this process, on the test database
  (``transactional_db``: committed data, so the browser, the server thread and the test see the same rows);
- both simulators serve over real HTTP from threads of this process on free ports, reset and seeded with the demo
  per test; the portal's AFAS and eConnect settings point at them, so every call the pages cause is a real HTTP call;
- Celery is eager (tests/settings.py): work a request enqueues runs inside that request. Work that beat or a worker
  would do later (a status poll, the next chunk of a bulk job) the test does itself between page polls, through
  ``world.exclusive()``, so it never overlaps a request on the shared SQLite connection.

Every test gets a fresh browser context (1280 px wide, English) and a ``shots`` helper that saves screenshots to
``var/test-artifacts/browser/<test>/<step>.png``. Without ``/usr/bin/chromium`` the tests are skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from tests.stack.simulators import LiveSimulator, serve_simulator

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "var" / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Long enough for a poll every 2 s and a slow CI machine; short enough that a broken page fails fast.
EXPECT_TIMEOUT_MS = 10_000

_HERE = Path(__file__).resolve().parent


def _in_this_folder(item: pytest.Item) -> bool:
    return _HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"Browser tests need the system Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if _in_this_folder(item):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    ran = [
        report
        for key in ("passed", "failed", "xfailed", "xpassed")
        for report in terminalreporter.stats.get(key, [])
        if getattr(report, "when", "call") == "call" and "tests/browser/" in report.nodeid
    ]
    if ran and ARTIFACTS.exists():
        count = sum(1 for _ in ARTIFACTS.rglob("*.png"))
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{count} screenshots of the browser tests are in {ARTIFACTS}")


# --- the browser ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # The sync API keeps an event loop on this thread; Django refuses ORM calls from a thread with a running loop
    # unless told that this is safe. It is: the loop only drives the browser, the ORM calls stay synchronous.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def context(chromium, live_server) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    browser_context = chromium.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB")
    browser_context.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield browser_context
    finally:
        browser_context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    if report.when == "call" and _in_this_folder(item):
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def page(context, request) -> Iterator[Any]:
    browser_page = context.new_page()
    yield browser_page
    if getattr(request.node, "browser_test_failed", False):  # what the page showed when the test failed
        folder = ARTIFACTS / _folder_name(request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            browser_page.screenshot(path=str(folder / "failure.png"), full_page=True)


def _folder_name(test_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")


class Screenshots:
    """``shots.take("step")`` saves ``<test>/<nn>-step.png``; ``both=True`` also at phone width (``-phone``)."""

    def __init__(self, page: Any, folder: Path):
        self.page = page
        self.folder = folder
        self.count = 0

    def take(self, step: str, *, both: bool = False) -> Path:
        self.count += 1
        name = f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower()).strip('-')}"
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if both:
            size = self.page.viewport_size
            self.page.set_viewport_size(PHONE)
            try:
                self.page.screenshot(path=str(self.folder / f"{name}-phone.png"), full_page=True)
                # Phone width: the page itself must not scroll sideways (wide tables scroll in their own box).
                overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{step}: the page is {overflow}px wider than a 375px phone"
            finally:
                self.page.set_viewport_size(size)
        return path


@pytest.fixture
def shots(page, request) -> Screenshots:
    folder = ARTIFACTS / _folder_name(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(page, folder)


class NoReload:
    """Proves that what a test waits for arrived without a page load: a marker on ``window`` survives, and the
    main frame did not navigate."""

    def __init__(self, page: Any):
        self.page = page
        self.navigations: list[str] = []
        page.evaluate("window.__stillTheSamePage = true")
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.navigations.append(frame.url)

    def check(self) -> None:
        assert self.navigations == [], f"the page was loaded again: {self.navigations}"
        assert self.page.evaluate("window.__stillTheSamePage === true"), "the page was loaded again"


# --- the simulators and the portal's world -------------------------------------------------------------------------


@pytest.fixture(scope="package")
def simulators() -> Iterator[tuple[LiveSimulator, LiveSimulator]]:
    afas = serve_simulator(afas_simulator.create_app(), afas_simulator.seed_demo)
    econnect = serve_simulator(econnect_simulator.create_app(), econnect_simulator.seed_demo)
    try:
        yield afas, econnect
    finally:
        for simulator in (afas, econnect):
            simulator.stop()


class _Serialised:
    """Wraps the live server's WSGI app so requests and the test's own database work take turns: with SQLite in
    memory, the server thread and the test share one connection."""

    def __init__(self, app, lock: threading.RLock):
        self.app = app
        self.lock = lock

    def __call__(self, environ, start_response):
        with self.lock:
            return self.app(environ, start_response)


@dataclass
class World:
    live_server: Any
    afas: LiveSimulator
    econnect: LiveSimulator
    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Database work of the test (what beat or a worker would do) while no request is being served."""
        with self.lock:
            yield

    def url(self, name: str, *args) -> str:
        from django.urls import reverse

        return reverse(name, args=args)

    def demo_environment(self):
        from portal.organisations.models import Environment

        return Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")

    def demo_user(self):
        from portal.accounts.models import User
        from portal.organisations.demo import ACCOUNTANT_LOGIN

        return User.objects.get(username=ACCOUNTANT_LOGIN[0])

    def log_in(self, context, user) -> None:
        """A session for ``user`` in the browser, without the login form (test (a) uses the form)."""
        from django.conf import settings
        from django.test import Client

        with self.exclusive():
            client = Client()
            client.force_login(user)
            session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": self.live_server.url}])

    def econnect_control(self, method: str, path: str, **kwargs):
        import httpx

        return httpx.request(method, self.econnect.url + path, timeout=10, **kwargs)

    def afas_control(self, method: str, path: str, **kwargs):
        import httpx

        return httpx.request(method, self.afas.url + path, timeout=10, **kwargs)


@pytest.fixture
def world(live_server, simulators, settings) -> Iterator[World]:
    """Fresh simulators with the demo, the portal's demo data (firm, clients, environments, the accountant who is a
    firm admin), and the portal's clients pointed at the simulators over HTTP."""
    from portal.organisations.demo import demo_seed

    afas, econnect = simulators
    afas.reset()
    econnect.reset()
    settings.AFAS_BASE_URL_TEMPLATE = f"{afas.url}/{{participant}}/{{rest_host}}/ProfitRestServices"
    settings.AFAS_SB_BASE_URL_TEMPLATE = f"{afas.url}/sb/{{domain}}/{{environment}}"
    settings.ECONNECT_SOAP_URL = f"{econnect.url}/soap/v3.1"
    settings.ECONNECT_LOOKUP_URL = econnect.url
    settings.ECONNECT_SIMULATOR_CONTROL_URL = econnect.url
    settings.PEPPOL_LOOKUP_MAX_PER_SECOND = 1000.0
    world = World(live_server=live_server, afas=afas, econnect=econnect)
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    httpd.set_app(_Serialised(app, world.lock))
    try:
        with world.exclusive():
            demo_seed()
        yield world
    finally:
        httpd.set_app(app)
