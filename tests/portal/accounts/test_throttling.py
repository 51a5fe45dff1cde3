from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from portal.accounts import throttling
from portal.accounts.models import LoginFailure
from tests.portal.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = LoginFailure.Kind.PASSWORD


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 5
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    settings.LOGIN_LOCKOUT_SECONDS = 300
    settings.OTP_FAILURE_LIMIT = 2


def fail(username="anna", ip="10.0.0.1", times=1, at=None):
    for _ in range(times):
        failure = throttling.login_failure_record(kind=PASSWORD, username=username, ip_address=ip)
        if at is not None:
            LoginFailure.objects.filter(pk=failure.pk).update(created_at=at)


def test_a_username_is_locked_once_it_reaches_the_limit_and_not_before():
    fail(times=2)
    assert not throttling.login_is_locked(username="anna", ip_address="10.0.0.2")

    fail()

    assert throttling.login_is_locked(username="anna", ip_address="10.0.0.2")


def test_the_username_is_compared_without_case_or_surrounding_spaces():
    fail(username="Anna ", times=3)

    assert throttling.login_is_locked(username="ANNA", ip_address=None)


def test_other_usernames_from_another_address_are_not_affected():
    fail(times=3)

    assert not throttling.login_is_locked(username="bert", ip_address="10.0.0.2")


def test_an_address_is_locked_after_its_own_limit_across_usernames():
    for name in ("a", "b", "c", "d", "e"):
        fail(username=name, ip="10.9.9.9")

    assert throttling.login_is_locked(username="someone-else", ip_address="10.9.9.9")
    assert not throttling.login_is_locked(username="someone-else", ip_address="10.9.9.8")


def test_the_lock_ends_when_the_lockout_has_passed_since_the_last_failure():
    fail(times=3, at=timezone.now() - timedelta(seconds=301))

    assert not throttling.login_is_locked(username="anna", ip_address=None)


def test_failures_spread_wider_than_the_window_do_not_lock():
    now = timezone.now()
    fail(at=now - timedelta(seconds=700))
    fail(times=2, at=now - timedelta(seconds=10))

    assert not throttling.login_is_locked(username="anna", ip_address=None)


def test_a_success_clears_the_users_count_but_not_other_usernames_from_the_same_address():
    fail(times=3)
    fail(username="bert")

    throttling.login_failures_clear(kind=PASSWORD, username="anna")

    assert not throttling.login_is_locked(username="anna", ip_address=None)
    assert list(LoginFailure.objects.values_list("username", "ip_address")) == [("bert", "10.0.0.1")]


def test_a_success_purges_failures_long_past():
    fail(username="bert", at=timezone.now() - timedelta(days=1))

    throttling.login_failures_clear(kind=PASSWORD, username="anna")

    assert not LoginFailure.objects.exists()


def test_code_attempts_are_counted_per_user():
    user = UserFactory(username="carla")
    throttling.login_failure_record(kind=LoginFailure.Kind.CODE, username="carla", ip_address=None)
    assert not throttling.code_is_locked(user=user)

    throttling.login_failure_record(kind=LoginFailure.Kind.CODE, username="carla", ip_address=None)

    assert throttling.code_is_locked(user=user)
    assert not throttling.login_is_locked(username="carla", ip_address=None)  # passwords count separately


def test_the_client_address_is_remote_addr_unless_a_proxy_is_trusted(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.7")

    assert throttling.client_ip(request) == "10.0.0.5"
    settings.LOGIN_TRUST_X_FORWARDED_FOR = True
    assert throttling.client_ip(request) == "192.0.2.7"  # the entry the trusted proxy added, not a spoofable one
