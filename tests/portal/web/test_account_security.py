import base64
import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import LoginFailure, Membership
from portal.accounts.sessions import LAST_ACTIVITY_KEY
from tests.portal.accounts.factories import TEST_PASSWORD, MembershipFactory
from tests.portal.accounts.totp import code_for, confirmed_device, wrong_code_for

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts. Wait a few minutes and try again."
WRONG = "Please enter a correct username and password."


def page(response) -> str:
    return response.content.decode()


def log_in(client, username, password=TEST_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.fixture
def admin(db):
    return MembershipFactory(role=Membership.Role.FIRM_ADMIN)


@pytest.fixture
def no_device_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


# --- login and throttling ------------------------------------------------------------------------------------------


def test_a_member_logs_in_with_username_and_password(client, membership):
    response = log_in(client, membership.user.username)

    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200


def test_a_wrong_password_is_counted_and_answered_generically(client, membership):
    response = log_in(client, membership.user.username, "wrong")

    assert WRONG in page(response)
    assert LoginFailure.objects.filter(username=membership.user.username, kind="password").count() == 1


@pytest.fixture
def limit_three(settings):
    settings.LOGIN_FAILURE_LIMIT = 3


def test_after_too_many_failures_even_the_right_password_is_refused(client, membership, limit_three):
    for _ in range(3):
        log_in(client, membership.user.username, "wrong")

    response = log_in(client, membership.user.username)

    assert response.status_code == 200
    assert LOCKED in page(response)
    assert client.get(reverse("web:home")).status_code == 302  # not logged in


def test_the_lock_reads_the_same_for_a_username_that_does_not_exist(client, limit_three):
    for _ in range(3):
        log_in(client, "nobody-by-this-name", "wrong")

    assert LOCKED in page(log_in(client, "nobody-by-this-name", "wrong"))


def test_a_locked_attempt_is_not_counted_so_the_lockout_ends(client, membership, limit_three):
    for _ in range(5):
        log_in(client, membership.user.username, "wrong")

    assert LoginFailure.objects.count() == 3


def test_one_address_is_throttled_across_usernames(settings, membership):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 4
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for name in ("a", "b", "c", "d"):
        log_in(attacker, name, "wrong")

    assert LOCKED in page(log_in(attacker, membership.user.username))
    assert log_in(Client(REMOTE_ADDR="198.51.100.8"), membership.user.username).status_code == 302


def test_a_successful_login_clears_the_users_failures(client, membership, limit_three):
    for _ in range(2):
        log_in(client, membership.user.username, "wrong")

    log_in(client, membership.user.username)

    assert not LoginFailure.objects.filter(username=membership.user.username).exists()


def test_logging_out_is_post_only(accountant_client):
    assert accountant_client.get(reverse("logout")).status_code == 405
    assert accountant_client.post(reverse("logout")).status_code == 302
    assert accountant_client.get(reverse("web:home")).status_code == 302


def test_the_login_form_rejects_a_post_without_csrf_token(membership):
    client = Client(enforce_csrf_checks=True)

    assert log_in(client, membership.user.username).status_code == 403


# --- two-factor login ----------------------------------------------------------------------------------------------


def test_a_user_with_two_factor_gives_a_code_before_any_portal_page(client, admin):
    device = confirmed_device(admin.user)

    response = log_in(client, admin.user.username)

    assert response["Location"].startswith(reverse("login_code"))
    home = client.get(reverse("web:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("login_code"))
    client.post(reverse("login_code"), {"code": code_for(device), "next": "/"})
    assert client.get(reverse("web:home")).status_code == 200


def test_the_code_step_keeps_the_page_the_user_asked_for(client, admin):
    device = confirmed_device(admin.user)
    wanted = reverse("web:team")

    login = client.post(
        reverse("login") + f"?next={wanted}",
        {"username": admin.user.username, "password": TEST_PASSWORD, "next": wanted},
    )
    code_page = client.get(login["Location"])
    assert f'value="{wanted}"' in page(code_page)
    response = client.post(reverse("login_code"), {"code": code_for(device), "next": wanted})

    assert response["Location"] == wanted


def test_the_code_step_ignores_a_next_page_on_another_site(client, admin):
    device = confirmed_device(admin.user)
    log_in(client, admin.user.username)

    response = client.post(reverse("login_code"), {"code": code_for(device), "next": "https://evil.example/"})

    assert response["Location"] == reverse("web:home")


def test_a_wrong_code_is_refused_and_counted(client, admin):
    device = confirmed_device(admin.user)
    log_in(client, admin.user.username)

    response = client.post(reverse("login_code"), {"code": wrong_code_for(device)})

    assert "That code is not correct" in page(response)
    assert client.get(reverse("web:home"))["Location"].startswith(reverse("login_code"))
    assert LoginFailure.objects.filter(kind="code", username=admin.user.username).count() == 1


def test_code_attempts_are_throttled(client, admin, settings, no_device_backoff):
    settings.OTP_FAILURE_LIMIT = 2
    device = confirmed_device(admin.user)
    log_in(client, admin.user.username)
    for _ in range(2):
        client.post(reverse("login_code"), {"code": wrong_code_for(device)})

    response = client.post(reverse("login_code"), {"code": code_for(device)})

    assert "Too many wrong codes" in page(response)
    assert client.get(reverse("web:home"))["Location"].startswith(reverse("login_code"))


def test_the_code_step_without_a_login_goes_to_the_login_page(client):
    response = client.get(reverse("login_code"))

    assert response["Location"].startswith(reverse("login"))


def test_the_code_step_is_skipped_for_a_user_without_two_factor(accountant_client):
    assert accountant_client.get(reverse("login_code"))["Location"] == reverse("web:home")


def test_an_htmx_request_of_an_unverified_session_redirects_the_whole_page(client, admin):
    confirmed_device(admin.user)
    log_in(client, admin.user.username)

    response = client.get(reverse("web:home"), headers={"HX-Request": "true"})

    assert response["HX-Redirect"].startswith(reverse("login_code"))


# --- setting two-factor up and turning it off ----------------------------------------------------------------------


def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin.user)
    return client


def test_a_firm_admin_turns_two_factor_on_with_a_qr_code_and_a_confirming_code(admin):
    client = admin_client(admin)
    client.post(reverse("web:account_two_factor_start"))

    setup = page(client.get(reverse("web:account")))
    device = TOTPDevice.objects.get(user=admin.user)
    assert "<svg" in setup and 'role="img"' in setup
    assert "Not yet on" in setup
    secret_shown = setup.split('<code class="secret">')[1].split("</code>")[0].replace(" ", "")
    assert base64.b32decode(secret_shown) == device.bin_key

    client.post(reverse("web:account_two_factor_confirm"), {"code": code_for(device)})

    device.refresh_from_db()
    assert device.confirmed
    after = page(client.get(reverse("web:account")))
    assert "<svg" not in after  # the secret is never shown again
    assert client.get(reverse("web:home")).status_code == 200  # this session proved it holds the app


def test_a_wrong_confirmation_code_leaves_two_factor_off(admin):
    client = admin_client(admin)
    client.post(reverse("web:account_two_factor_start"))
    device = TOTPDevice.objects.get(user=admin.user)

    response = client.post(reverse("web:account_two_factor_confirm"), {"code": wrong_code_for(device)}, follow=True)

    assert "That code is not correct" in page(response)
    device.refresh_from_db()
    assert not device.confirmed


def test_an_unconfirmed_secret_does_not_ask_for_a_code_at_login(client, admin):
    admin_client(admin).post(reverse("web:account_two_factor_start"))

    log_in(client, admin.user.username)

    assert client.get(reverse("web:home")).status_code == 200


def test_turning_two_factor_off_needs_the_current_code(client, admin, no_device_backoff):
    device = confirmed_device(admin.user)
    log_in(client, admin.user.username)
    client.post(reverse("login_code"), {"code": code_for(device)})

    client.post(reverse("web:account_two_factor_disable"), {"code": wrong_code_for(device)})
    assert TOTPDevice.objects.filter(user=admin.user).exists()
    client.post(reverse("web:account_two_factor_disable"), {"code": code_for(device, steps_ahead=1)})

    assert not TOTPDevice.objects.filter(user=admin.user).exists()


@pytest.mark.parametrize(
    "url_name", ["web:account_two_factor_start", "web:account_two_factor_confirm", "web:account_two_factor_disable"]
)
def test_two_factor_settings_are_for_firm_admins(accountant_client, url_name):
    assert accountant_client.post(reverse(url_name), {"code": "123456"}).status_code == 403


def test_every_member_sees_their_account_page_and_changes_their_password(viewer_client, viewer_membership):
    assert "available to firm admins" in page(viewer_client.get(reverse("web:account")))
    new = "another-long-passphrase-2026"

    response = viewer_client.post(
        reverse("web:account_password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    assert viewer_client.get(reverse("web:account")).status_code == 200  # this session stays
    assert Client().login(username=viewer_membership.user.username, password=new)


def test_a_wrong_old_password_is_a_form_error(viewer_client):
    response = viewer_client.post(
        reverse("web:account_password_change"),
        {"old_password": "wrong", "new_password1": "x-long-passphrase-1", "new_password2": "x-long-passphrase-1"},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in page(response)


# --- idle sessions -------------------------------------------------------------------------------------------------


def set_last_activity(client, seconds_ago):
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time() - seconds_ago)
    session.save()


def test_a_session_idle_for_longer_than_the_limit_ends(accountant_client, settings):
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(accountant_client, 601)

    response = accountant_client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in accountant_client.session
    assert "inactivity" in page(accountant_client.get(response["Location"]))


def test_a_session_used_within_the_limit_continues_and_is_renewed(accountant_client, settings):
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(accountant_client, 500)

    assert accountant_client.get(reverse("web:home")).status_code == 200
    assert time.time() - accountant_client.session[LAST_ACTIVITY_KEY] < 5


def test_htmx_polling_does_not_keep_a_session_alive(accountant_client, settings):
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(accountant_client, 500)

    accountant_client.get(reverse("web:home"), headers={"HX-Request": "true"})

    assert time.time() - accountant_client.session[LAST_ACTIVITY_KEY] >= 500


def test_an_idle_htmx_request_sends_the_whole_page_to_the_login(accountant_client, settings):
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(accountant_client, 601)

    response = accountant_client.get(
        reverse("web:home"), headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/outbox/"}
    )

    assert response["HX-Redirect"].startswith(reverse("login"))


def test_the_code_step_also_ends_an_idle_session(client, admin, settings):
    confirmed_device(admin.user)
    log_in(client, admin.user.username)
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(client, 601)

    response = client.get(reverse("login_code"))

    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_logging_in_starts_the_idle_clock(client, membership):
    log_in(client, membership.user.username)

    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_the_idle_timeout_middleware_ends_idle_sessions_on_any_page(accountant_client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "portal.accounts.sessions.SessionIdleTimeoutMiddleware"]
    settings.SESSION_IDLE_SECONDS = 600
    set_last_activity(accountant_client, 601)

    response = accountant_client.get("/admin/")  # a page outside the portal's decorator

    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in accountant_client.session


def test_sessions_have_an_absolute_lifetime_and_end_when_the_browser_closes():
    from portal import settings as portal_settings

    assert portal_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert 0 < portal_settings.SESSION_COOKIE_AGE <= 24 * 3600
    assert 0 < portal_settings.SESSION_IDLE_SECONDS < portal_settings.SESSION_COOKIE_AGE


# --- staff pages -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/organisations/environment/"])
def test_accountants_never_reach_the_admin(path, accountant_client, firm_admin_client):
    for client in (accountant_client, firm_admin_client):
        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
