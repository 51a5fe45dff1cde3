import pytest

from integrations.econnect.errors import InvalidCredentials, TokenExpired, TokensKeepExpiring
from tests.integrations.econnect.conftest import KEY, advance, make_gateway


def logins(control):
    return control.get("/_sim/calls").json()["counts"].get("Login", 0)


def test_login_with_the_right_keys_succeeds_and_the_token_is_reused(gateway, control):
    gateway.login()
    gateway.list_inbox_documents()
    gateway.list_inbox_documents()

    assert logins(control) == 1


def test_the_short_lived_gateways_of_one_process_share_the_token_of_their_keys(transport, control):
    for _ in range(3):  # as the gateway of each task
        with make_gateway(transport) as gateway:
            gateway.list_inbox_documents()

    assert logins(control) == 1
    with make_gateway(transport, secret="wrong") as other, pytest.raises(InvalidCredentials):
        other.list_inbox_documents()  # other keys never get that token
    assert logins(control) == 2


def test_wrong_keys_are_an_authentication_error_with_the_econnect_code(transport):
    with make_gateway(transport, secret="wrong") as gateway, pytest.raises(InvalidCredentials) as refused:
        gateway.login()

    assert refused.value.code == "ERRIAU6000007" and not refused.value.transient


def test_keys_are_required_when_the_gateway_is_made(transport):
    with pytest.raises(InvalidCredentials):
        make_gateway(transport, secret="")


def test_an_expired_token_is_renewed_once_and_the_call_succeeds(gateway, control):
    gateway.list_inbox_documents()
    assert control.post(f"/_sim/accounts/{KEY}/expire-tokens").json() == {"expired": 1}

    assert gateway.list_inbox_documents().documents == ()
    assert logins(control) == 2


def test_tokens_refused_one_after_the_other_are_a_transient_failure_not_the_keys(gateway, control, monkeypatch):
    exchange = gateway._exchange

    def every_token_refused(operation, body, *, token):
        if operation == "Login":
            return exchange(operation, body, token=token)
        raise TokenExpired("refused", service="eConnect", code="DEFAULT_ERROR_CODE999")

    monkeypatch.setattr(gateway, "_exchange", every_token_refused)

    with pytest.raises(TokensKeepExpiring) as refused:
        gateway.list_inbox_documents()

    assert refused.value.transient and refused.value.code == "DEFAULT_ERROR_CODE999"
    assert logins(control) == 3  # the first token and two renewals


def test_a_token_past_its_lifetime_on_the_econnect_clock_is_renewed(gateway, control):
    gateway.list_inbox_documents()
    advance(control, 5 * 3600)

    gateway.list_inbox_documents()

    assert logins(control) == 2


def test_the_token_is_renewed_before_it_runs_out_on_our_own_clock(transport, control):
    from datetime import UTC, datetime, timedelta

    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    with make_gateway(transport, clock=lambda: now[0]) as gateway:
        gateway.list_inbox_documents()
        now[0] += timedelta(hours=3, minutes=50)
        gateway.list_inbox_documents()

    assert logins(control) == 2


def test_keys_revoked_while_the_token_expired_end_in_an_authentication_error(app, gateway, control):
    gateway.list_inbox_documents()
    app.data["accounts"][KEY]["app_secret"] = "revoked"
    control.post(f"/_sim/accounts/{KEY}/expire-tokens")

    with pytest.raises(InvalidCredentials):
        gateway.list_inbox_documents()
