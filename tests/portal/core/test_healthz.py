import pytest
from django.db import OperationalError

from portal.celery_app import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_healthy(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "encryption", "peppol_rules"}


def test_healthz_needs_no_login_and_is_never_cached(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def broker_down(monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    saved = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {}
    yield
    celery_app.conf.broker_transport_options = saved


def test_healthz_names_the_broker_when_it_is_down(client, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert "broker unavailable" in response.json()["checks"]["broker"]["detail"]


def test_healthz_names_the_database_when_it_is_down(client, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("portal.core.health.connection.cursor", unavailable)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert "database" in response.json()["failing"]


def test_healthz_names_the_encryption_key_when_it_does_not_fit(client, wrong_encryption_key):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["encryption"]
    assert "FIELD_ENCRYPTION_KEY does not decrypt" in response.json()["checks"]["encryption"]["detail"]


def test_healthz_does_not_leak_the_reason_of_a_failure(client, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError('password authentication failed for user "portal" at db.internal:5432')

    monkeypatch.setattr("portal.core.health.connection.cursor", unavailable)

    body = client.get("/healthz").content.decode()

    assert "db.internal" not in body
    assert "password" not in body
