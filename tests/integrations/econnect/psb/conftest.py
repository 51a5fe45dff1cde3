"""The PSB tests' shared world: no cached token leaks between tests, and a simulator holding PSB credentials for our
party with a customer on Peppol, whose webhook deliveries are recorded (``posted``) and answered as told."""

from __future__ import annotations

import pytest

from integrations.econnect.psb.auth import forget_tokens
from integrations.econnect.simulator import create_app
from tests.integrations.econnect.conftest import CUSTOMER, OWN

SIM = "http://econnect.sim"
CLIENT_ID, CLIENT_SECRET = "portal-client", "psb-secret-3456"
HOOK_SECRET = "hook-secret-7890"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def sim():
    simulator = create_app()
    simulator.add_psb_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, parties=[OWN], name="De Boer")
    simulator.register("production", CUSTOMER, access_point="econnect")
    simulator.posted = []

    def sender(url, body, headers):
        simulator.posted.append((url, body, headers))
        return simulator.webhook_answers.pop(0) if simulator.webhook_answers else 200

    simulator.webhook_answers = []
    simulator.webhook_sender = sender
    return simulator
