import smtplib

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import services
from portal.accounts.models import AppendOnlyError, Membership, MembershipChange
from tests.portal.accounts.factories import MembershipFactory, UserFactory
from tests.portal.accounts.totp import code_for, confirmed_device, wrong_code_for

pytestmark = pytest.mark.django_db

Role = Membership.Role
SITE = "https://portal.example.nl/"


@pytest.fixture
def admin(db):
    return MembershipFactory(role=Role.FIRM_ADMIN)


@pytest.fixture
def colleague(admin):
    return MembershipFactory(firm=admin.firm, role=Role.ACCOUNTANT)


def invite(admin, **overrides):
    values = {
        "actor": admin.user,
        "firm": admin.firm,
        "username": "new.colleague",
        "email": "new@example.nl",
        "first_name": "Nina",
        "last_name": "Nieuw",
        "role": Role.VIEWER,
        "site_url": SITE,
    }
    return services.member_invite(**(values | overrides))


# --- invitations ---------------------------------------------------------------------------------------------------


def test_an_invited_member_joins_the_firm_without_a_usable_password(admin):
    link = invite(admin)

    user = link.membership.user
    assert (user.username, user.email, user.get_full_name()) == ("new.colleague", "new@example.nl", "Nina Nieuw")
    assert (link.membership.firm, link.membership.role) == (admin.firm, Role.VIEWER)
    assert not user.has_usable_password()


def test_the_invitation_link_carries_a_valid_one_time_token(admin):
    link = invite(admin)

    assert link.url.startswith("https://portal.example.nl/accounts/set-password/")
    token = link.url.rstrip("/").rsplit("/", 1)[1]
    assert default_token_generator.check_token(link.membership.user, token)


def test_the_invitation_is_mailed_with_the_link(admin):
    link = invite(admin)

    assert link.mailed
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.nl"]
    assert link.url in mail.outbox[0].body
    assert admin.firm.name in mail.outbox[0].subject


def test_a_mail_failure_still_gives_the_admin_the_link(admin, monkeypatch):
    def broken(*args, **kwargs):
        raise smtplib.SMTPException("relay down")

    monkeypatch.setattr(services, "send_mail", broken)

    link = invite(admin)

    assert not link.mailed
    assert "/accounts/set-password/" in link.url


def test_the_invitation_is_audited(admin):
    link = invite(admin)

    change = MembershipChange.objects.get()
    assert (change.firm, change.actor, change.subject, change.action, change.to_role) == (
        admin.firm,
        admin.user,
        link.membership.user,
        MembershipChange.Action.INVITED,
        Role.VIEWER,
    )


def test_usernames_are_unique_across_firms_whatever_their_case(admin):
    UserFactory(username="Taken")  # a user of no firm, or of another firm

    with pytest.raises(services.UsernameTaken, match="already taken"):
        invite(admin, username="taken")

    assert not MembershipChange.objects.exists()


def test_only_a_firm_admin_of_the_firm_can_invite(admin, colleague):
    other_firms_admin = MembershipFactory(role=Role.FIRM_ADMIN)

    for actor in (colleague.user, other_firms_admin.user):
        with pytest.raises(services.TeamChangeRefused):
            invite(admin, actor=actor)


def test_a_new_link_is_issued_for_an_existing_member(admin, colleague):
    link = services.member_password_link_issue(actor=admin.user, membership=colleague, site_url=SITE)

    token = link.url.rstrip("/").rsplit("/", 1)[1]
    assert default_token_generator.check_token(colleague.user, token)
    assert MembershipChange.objects.get().action == MembershipChange.Action.PASSWORD_LINK_ISSUED


# --- roles and access ----------------------------------------------------------------------------------------------


def test_a_role_change_is_saved_and_audited_with_both_roles(admin, colleague):
    services.member_change_role(actor=admin.user, membership=colleague, role=Role.FIRM_ADMIN)

    colleague.refresh_from_db()
    assert colleague.role == Role.FIRM_ADMIN
    change = MembershipChange.objects.get()
    assert (change.action, change.from_role, change.to_role, change.actor_name) == (
        MembershipChange.Action.ROLE_CHANGED,
        Role.ACCOUNTANT,
        Role.FIRM_ADMIN,
        admin.user.username,
    )


def test_an_unknown_role_is_refused(admin, colleague):
    with pytest.raises(services.TeamChangeRefused):
        services.member_change_role(actor=admin.user, membership=colleague, role="owner")


@pytest.mark.parametrize(
    "change",
    [
        lambda admin: services.member_change_role(actor=admin.user, membership=admin, role=Role.VIEWER),
        lambda admin: services.member_set_active(actor=admin.user, membership=admin, active=False),
        lambda admin: services.member_two_factor_reset(actor=admin.user, membership=admin),
    ],
    ids=["role", "deactivate", "two-factor-reset"],
)
def test_nobody_changes_their_own_role_or_access(admin, change):
    with pytest.raises(services.TeamChangeRefused, match="your own"):
        change(admin)

    admin.refresh_from_db()
    admin.user.refresh_from_db()
    assert (admin.role, admin.user.is_active) == (Role.FIRM_ADMIN, True)


def test_an_accountant_cannot_change_the_team(colleague):
    viewer = MembershipFactory(firm=colleague.firm, role=Role.VIEWER)

    with pytest.raises(services.TeamChangeRefused):
        services.member_change_role(actor=colleague.user, membership=viewer, role=Role.FIRM_ADMIN)


def test_a_firm_admin_of_another_firm_cannot_change_the_team(colleague):
    outsider = MembershipFactory(role=Role.FIRM_ADMIN)

    with pytest.raises(services.TeamChangeRefused):
        services.member_set_active(actor=outsider.user, membership=colleague, active=False)
    colleague.user.refresh_from_db()
    assert colleague.user.is_active


def test_the_last_active_firm_admin_cannot_be_demoted(admin):
    with pytest.raises(services.TeamChangeRefused, match="without an active firm admin"):
        services.member_change_role(actor=None, membership=admin, role=Role.ACCOUNTANT)

    admin.refresh_from_db()
    assert admin.role == Role.FIRM_ADMIN
    assert not MembershipChange.objects.exists()


def test_the_last_active_firm_admin_cannot_be_deactivated(admin):
    inactive_admin = MembershipFactory(firm=admin.firm, role=Role.FIRM_ADMIN, user__is_active=False)

    with pytest.raises(services.TeamChangeRefused, match="without an active firm admin"):
        services.member_set_active(actor=None, membership=admin, active=False)

    admin.user.refresh_from_db()
    assert admin.user.is_active
    assert inactive_admin.pk  # an inactive admin does not count


def test_a_firm_admin_may_demote_another_firm_admin(admin):
    second = MembershipFactory(firm=admin.firm, role=Role.FIRM_ADMIN)

    services.member_change_role(actor=admin.user, membership=second, role=Role.VIEWER)

    second.refresh_from_db()
    assert second.role == Role.VIEWER


def test_deactivating_and_reactivating_are_audited(admin, colleague):
    services.member_set_active(actor=admin.user, membership=colleague, active=False)
    colleague.user.refresh_from_db()
    assert not colleague.user.is_active

    services.member_set_active(actor=admin.user, membership=colleague, active=True)
    colleague.user.refresh_from_db()
    assert colleague.user.is_active

    assert list(MembershipChange.objects.order_by("pk").values_list("action", flat=True)) == [
        MembershipChange.Action.DEACTIVATED,
        MembershipChange.Action.REACTIVATED,
    ]


def test_a_firm_admin_resets_a_members_lost_authenticator(admin, colleague):
    confirmed_device(colleague.user)

    services.member_two_factor_reset(actor=admin.user, membership=colleague)

    assert not TOTPDevice.objects.filter(user=colleague.user).exists()
    assert MembershipChange.objects.get().action == MembershipChange.Action.TWO_FACTOR_RESET


def test_the_team_audit_log_is_append_only(admin, colleague):
    services.member_set_active(actor=admin.user, membership=colleague, active=False)
    change = MembershipChange.objects.get()

    with pytest.raises(AppendOnlyError):
        MembershipChange.objects.update(action="invited")
    with pytest.raises(AppendOnlyError):
        MembershipChange.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        change.delete()


# --- two-factor authentication -------------------------------------------------------------------------------------


@pytest.fixture
def no_device_backoff(settings):
    """django-otp's own back-off (1, 2, 4 s after a wrong code) would slow these tests; the portal's lock stays."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_two_factor_is_on_only_after_a_code_confirms_the_new_secret(admin):
    device = services.two_factor_start(user=admin.user)
    assert not device.confirmed
    assert not services.two_factor_enabled(user=admin.user)

    services.two_factor_confirm(user=admin.user, token=code_for(device))

    assert services.two_factor_enabled(user=admin.user)
    assert MembershipChange.objects.get().action == MembershipChange.Action.TWO_FACTOR_ENABLED


def test_a_wrong_confirmation_code_leaves_two_factor_off(admin):
    device = services.two_factor_start(user=admin.user)

    with pytest.raises(services.CodeWrong):
        services.two_factor_confirm(user=admin.user, token=wrong_code_for(device))

    assert not services.two_factor_enabled(user=admin.user)


def test_starting_again_replaces_an_unconfirmed_secret(admin):
    first = services.two_factor_start(user=admin.user)
    second = services.two_factor_start(user=admin.user)

    assert list(TOTPDevice.objects.filter(user=admin.user)) == [second]
    assert first.key != second.key


def test_two_factor_cannot_be_started_twice(admin):
    confirmed_device(admin.user)

    with pytest.raises(services.TwoFactorError, match="already on"):
        services.two_factor_start(user=admin.user)


def test_turning_two_factor_off_needs_a_current_code(admin, no_device_backoff):
    device = confirmed_device(admin.user)

    with pytest.raises(services.CodeWrong):
        services.two_factor_disable(user=admin.user, token=wrong_code_for(device))
    assert services.two_factor_enabled(user=admin.user)

    services.two_factor_disable(user=admin.user, token=code_for(device))

    assert not TOTPDevice.objects.filter(user=admin.user).exists()
    assert MembershipChange.objects.get().action == MembershipChange.Action.TWO_FACTOR_DISABLED


def test_a_code_is_accepted_once(admin):
    device = confirmed_device(admin.user)
    code = code_for(device)
    services.login_code_verify(user=admin.user, token=code)

    with pytest.raises(services.CodeWrong):
        services.login_code_verify(user=admin.user, token=code)


def test_after_too_many_wrong_codes_even_the_right_one_is_refused(admin, settings, no_device_backoff):
    settings.OTP_FAILURE_LIMIT = 3
    device = confirmed_device(admin.user)
    for _ in range(2):
        with pytest.raises(services.CodeWrong):
            services.login_code_verify(user=admin.user, token=wrong_code_for(device))
    with pytest.raises(services.CodeLocked):  # the third wrong code reaches the limit
        services.login_code_verify(user=admin.user, token=wrong_code_for(device))

    with pytest.raises(services.CodeLocked, match="Too many wrong codes"):
        services.login_code_verify(user=admin.user, token=code_for(device))


def test_django_otp_back_off_after_a_wrong_code_is_reported_as_a_wait(admin):
    device = confirmed_device(admin.user)
    with pytest.raises(services.CodeWrong):
        services.login_code_verify(user=admin.user, token=wrong_code_for(device))

    with pytest.raises(services.CodeLocked, match="Wait a few seconds"):
        services.login_code_verify(user=admin.user, token=code_for(device))
