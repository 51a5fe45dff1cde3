"""No secret ever reaches a log record: every configured secret is known, the main flows run (failures included)
against the simulators with every logger at DEBUG (SQL too), and every captured record is scanned.

Secrets: the AFAS token (and its base64 form, which is what goes over the wire), the eConnect App Key and Secret,
the session token eConnect hands out at login, SECRET_KEY, FIELD_ENCRYPTION_KEY and user passwords at login.
"""

from __future__ import annotations

import base64
import logging
import secrets
import traceback
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from integrations import demo_data
from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from integrations.http import AuthenticationError
from integrations.simulators.transport import SimulatorTransport
from portal.contacts.lookups import contacts_look_up_due
from portal.contacts.services import contacts_sync
from portal.core.logging import JsonFormatter
from portal.incoming_invoices import services as incoming
from portal.organisations import clients
from portal.organisations.connection_test import environment_test_connection
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from portal.outgoing_invoices import services as outgoing
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.accounts.factories import MembershipFactory, UserFactory
from tests.portal.organisations.test_admin import form_data as admin_form_data
from tests.portal.web.test_environment_pages import settings_data

pytestmark = pytest.mark.django_db

RUN = secrets.token_hex(6)  # every secret is unique to this run, so a match cannot be a coincidence
WRONG_AFAS_TOKEN = f"<token><version>1</version><data>WRONG-AFAS-{RUN}</data></token>"
WRONG_ECONNECT_SECRET = f"WRONG-ECONNECT-SECRET-{RUN}"
USER_PASSWORD = f"Correct-Horse-{RUN}"
WRONG_PASSWORD = f"Wrong-Battery-{RUN}"
ADMIN_TYPED_TOKEN = f"<token><version>1</version><data>ADMIN-TYPED-{RUN}</data></token>"
WEB_TYPED_KEY, WEB_TYPED_SECRET = f"WEB-TYPED-KEY-{RUN}", f"WEB-TYPED-SECRET-{RUN}"
SUBSCRIPTION_KEY = f"SUBSCRIPTION-{RUN}"  # ECONNECT_SUBSCRIPTION_KEY: sent on every SOAP call


# --- capturing and scanning ---------------------------------------------------------------------------------------


@pytest.fixture
def every_log(caplog):
    """Every logger at DEBUG (also those the settings keep quieter, e.g. httpx), SQL with its parameters included."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("httpx", "httpcore", "django.db.backends", "django.request", "django.security", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = forced


def record_texts(record: logging.LogRecord) -> dict[str, str]:
    """Every place of a record a handler could write out."""
    texts = {"msg": str(record.msg), "args": repr(record.args)}
    try:
        texts["message"] = record.getMessage()
    except Exception:  # noqa: BLE001 - a record that cannot format still has msg and args
        pass
    if record.exc_info:
        texts["exc_info"] = "".join(traceback.format_exception(*record.exc_info))
    if record.exc_text:
        texts["exc_text"] = record.exc_text
    if record.stack_info:
        texts["stack_info"] = record.stack_info
    texts["json line"] = JsonFormatter().format(record)
    for key, value in record.__dict__.items():
        if key not in texts and isinstance(value, str):
            texts[f"extra {key}"] = value
    return texts


def assert_no_secret_logged(records: list[logging.LogRecord], known: dict[str, str]) -> None:
    assert records, "nothing was logged: the capture is not working"
    leaks = []
    for record in records:
        for where, text in record_texts(record).items():
            for name, value in known.items():
                if value and value in text:
                    leaks.append(
                        f"{name} in the {where} of a {record.levelname} record of logger {record.name!r} "
                        f"({record.pathname}:{record.lineno}): {text[:200]!r}"
                    )
    assert not leaks, "Secrets in the logs:\n" + "\n".join(leaks)


# --- a world with secrets of our own --------------------------------------------------------------------------------


@dataclass
class SecretWorld:
    environment: Environment
    afas_app: object
    econnect_app: object

    def known_secrets(self, **more: str) -> dict[str, str]:
        spec = next(e for e in demo_data.ENVIRONMENTS if e.key == "12345-production")
        found = {
            "AFAS token": spec.afas_token,
            "AFAS token (base64, as sent)": base64.b64encode(spec.afas_token.encode()).decode(),
            "eConnect App Key": spec.econnect_app_key,
            "eConnect Secret": spec.econnect_app_secret,
            "SECRET_KEY": settings.SECRET_KEY,
            **{f"FIELD_ENCRYPTION_KEY[{i}]": key for i, key in enumerate(settings.FIELD_ENCRYPTION_KEY)},
            "wrong AFAS token": WRONG_AFAS_TOKEN,
            "wrong AFAS token (base64, as sent)": base64.b64encode(WRONG_AFAS_TOKEN.encode()).decode(),
            "wrong eConnect Secret": WRONG_ECONNECT_SECRET,
            "eConnect subscription key": SUBSCRIPTION_KEY,
            **more,
        }
        for number, token in enumerate(self.econnect_app.data["tokens"]):
            found[f"eConnect session token {number}"] = token
        return found

    def issue_sales_invoice(self, debtor: str = "10001") -> None:
        key = f"{self.environment.afas_participant_number}-{self.environment.afas_environment_type}"
        response = SimulatorTransport(self.afas_app).handle_request(
            __import__("httpx").Request(
                "POST",
                f"http://sim/_sim/environments/{key}/sales-invoices",
                json={
                    "debtor": debtor,
                    "lines": [{"description": "Brood", "quantity": "1", "price": "2.50", "vat": "9"}],
                },
            )
        )
        assert response.status_code == 201


@pytest.fixture
def world(monkeypatch, settings):
    """Both simulators and the portal's demo data, with credentials unique to this run."""
    monkeypatch.setattr(
        demo_data.DemoEnvironment,
        "afas_token",
        property(lambda self: f"<token><version>1</version><data>AFAS-{self.key}-{RUN}</data></token>"),
    )
    monkeypatch.setattr(demo_data.DemoEnvironment, "econnect_app_key", property(lambda self: f"KEY-{self.key}-{RUN}"))
    monkeypatch.setattr(
        demo_data.DemoEnvironment, "econnect_app_secret", property(lambda self: f"SECRET-{self.key}-{RUN}")
    )
    afas_app, econnect_app = afas_simulator.create_app(), econnect_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_simulator.seed_demo(econnect_app)
    econnect_app.data["subscription_keys"] = [SUBSCRIPTION_KEY]  # the simulator accepts only this key: it is sent
    afas_transport, econnect_transport = SimulatorTransport(afas_app), SimulatorTransport(econnect_app)
    make_afas, make_gateway, make_lookup = clients.afas_client_for, clients.econnect_gateway_for, clients.peppol_lookup
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment, **kw: make_afas(environment, **kw, transport=afas_transport)
    )
    monkeypatch.setattr(
        clients,
        "econnect_gateway_for",
        lambda environment, **kw: make_gateway(environment, **kw, transport=econnect_transport),
    )
    monkeypatch.setattr(clients, "peppol_lookup", lambda **kw: make_lookup(transport=econnect_transport))
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    settings.ECONNECT_SOAP_URL = "http://127.0.0.1:8102/soap/v3.1"
    settings.ECONNECT_SUBSCRIPTION_KEY = SUBSCRIPTION_KEY
    settings.ECONNECT_LOOKUP_URL = "http://127.0.0.1:8102"
    settings.PEPPOL_LOOKUP_MAX_PER_SECOND = 1000.0
    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    Environment.objects.filter(pk=environment.pk).update(sending_enabled=True, receiving_enabled=True)
    environment.refresh_from_db()
    return SecretWorld(environment, afas_app, econnect_app)


def stored(environment: Environment) -> Environment:
    return Environment.objects.get(pk=environment.pk)


# --- the flows --------------------------------------------------------------------------------------------------


def test_sending_including_refused_credentials_logs_no_secret(world, every_log, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outgoing.outgoing_collect(environment=world.environment)
    submitted = OutgoingInvoice.objects.filter(environment=world.environment, status=OutgoingInvoice.Status.SUBMITTED)
    assert submitted.exists()
    outgoing.outgoing_follow_status(invoice=submitted.first())

    world.econnect_app.data["tokens"].clear()  # eConnect forgot the session: the next call logs in again
    environment_set_credentials(
        environment=world.environment,
        actor=None,
        econnect_app_key=stored(world.environment).econnect_app_key,
        econnect_app_secret=WRONG_ECONNECT_SECRET,
    )
    world.issue_sales_invoice()
    with django_capture_on_commit_callbacks(execute=True):
        outgoing.outgoing_collect(environment=stored(world.environment))
    refused = OutgoingInvoice.objects.filter(environment=world.environment).exclude(
        status__in=[OutgoingInvoice.Status.SUBMITTED, OutgoingInvoice.Status.DELIVERED]
    )
    assert refused.exists()

    environment_set_credentials(environment=world.environment, actor=None, afas_token=WRONG_AFAS_TOKEN)
    world.issue_sales_invoice()
    with pytest.raises(AuthenticationError):
        try:
            outgoing.outgoing_collect(environment=stored(world.environment))
        except AuthenticationError:
            logging.getLogger("celery.app.trace").exception("Task outgoing.collect raised")  # as the worker logs it
            raise

    assert_no_secret_logged(every_log.records, world.known_secrets())


def test_receiving_including_a_refused_afas_token_logs_no_secret(world, every_log, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = incoming.incoming_fetch(environment=world.environment)
    assert result.stored > 0

    environment_set_credentials(environment=world.environment, actor=None, afas_token=WRONG_AFAS_TOKEN)
    for invoice in stored(world.environment).incoming_invoices.all():
        incoming.incoming_deliver(invoice=invoice)

    assert_no_secret_logged(every_log.records, world.known_secrets())


def test_contacts_sync_and_lookup_log_no_secret(world, every_log):
    contacts_sync(environment=world.environment)
    assert contacts_look_up_due() > 0

    environment_set_credentials(environment=world.environment, actor=None, afas_token=WRONG_AFAS_TOKEN)
    contacts_sync(environment=stored(world.environment), full=True)

    assert_no_secret_logged(every_log.records, world.known_secrets())


def test_the_connection_test_passing_and_failing_logs_no_secret(world, every_log):
    member = MembershipFactory(firm=world.environment.organisation.firm, role="firm_admin")
    client = Client()
    client.force_login(member.user)

    assert client.post(reverse("web:environment_test_connection", args=[world.environment.pk])).status_code < 400
    environment_set_credentials(
        environment=world.environment,
        actor=None,
        afas_token=WRONG_AFAS_TOKEN,
        econnect_app_key=stored(world.environment).econnect_app_key,
        econnect_app_secret=WRONG_ECONNECT_SECRET,
    )
    world.econnect_app.data["tokens"].clear()
    result = environment_test_connection(environment=stored(world.environment), actor=member.user)
    assert not result.ok

    assert_no_secret_logged(every_log.records, world.known_secrets())


def test_logins_failed_and_successful_log_no_password(every_log):
    user = UserFactory(username="alice")
    user.set_password(USER_PASSWORD)
    user.save()
    client = Client()

    refused = client.post(reverse("login"), {"username": "alice", "password": WRONG_PASSWORD})
    client.post(reverse("login"), {"username": "nobody", "password": WRONG_PASSWORD})
    accepted = client.post(reverse("login"), {"username": "alice", "password": USER_PASSWORD})

    assert refused.status_code == 200 and accepted.status_code == 302
    assert_no_secret_logged(
        every_log.records,
        {"the password": USER_PASSWORD, "a wrong password": WRONG_PASSWORD, "SECRET_KEY": settings.SECRET_KEY},
    )


def test_credential_changes_in_the_admin_and_the_web_log_no_secret(world, every_log):
    support = Client()
    support.force_login(UserFactory(is_staff=True, is_superuser=True))
    admin_url = reverse("admin:organisations_environment_change", args=[world.environment.pk])
    support.post(admin_url, admin_form_data(world.environment, new_afas_token=ADMIN_TYPED_TOKEN))
    assert stored(world.environment).afas_token == ADMIN_TYPED_TOKEN
    # refused: a key without its secret, which the form must not echo nor log
    support.post(admin_url, admin_form_data(world.environment, new_econnect_app_key=WEB_TYPED_KEY))

    member = MembershipFactory(firm=world.environment.organisation.firm, role="firm_admin")
    web = Client()
    web.force_login(member.user)
    web_url = reverse("web:environment_settings", args=[world.environment.pk])
    web.post(web_url, settings_data(world.environment, econnect_app_key=WEB_TYPED_KEY))  # refused: no secret
    web.post(
        web_url, settings_data(world.environment, econnect_app_key=WEB_TYPED_KEY, econnect_app_secret=WEB_TYPED_SECRET)
    )
    assert stored(world.environment).econnect_app_secret == WEB_TYPED_SECRET

    assert_no_secret_logged(
        every_log.records,
        world.known_secrets(
            **{
                "token typed in the admin": ADMIN_TYPED_TOKEN,
                "key typed in the web": WEB_TYPED_KEY,
                "secret typed in the web": WEB_TYPED_SECRET,
            }
        ),
    )


def test_the_scan_finds_a_secret_wherever_it_is_in_a_record():
    """The scanner itself: a secret in the message, the arguments or an exception is named."""
    secret = f"S-{RUN}"
    records = [
        logging.LogRecord("a", logging.INFO, __file__, 1, "token %s", (secret,), None),
        logging.LogRecord("b", logging.INFO, __file__, 2, "plain", (), None),
    ]
    try:
        raise ValueError(f"bad {secret}")
    except ValueError as exc:
        records[1].exc_info = (type(exc), exc, exc.__traceback__)

    with pytest.raises(AssertionError) as found:
        assert_no_secret_logged(records, {"the secret": secret})

    assert "the secret in the message of a INFO record of logger 'a'" in str(found.value)
    assert "the secret in the exc_info of a INFO record of logger 'b'" in str(found.value)
