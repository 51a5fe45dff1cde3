import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import Membership, MembershipChange
from tests.portal.accounts.factories import MembershipFactory, UserFactory
from tests.portal.accounts.totp import confirmed_device

pytestmark = pytest.mark.django_db

Role = Membership.Role


def page(response) -> str:
    return response.content.decode()


def invite_data(**overrides):
    return {
        "username": "nina",
        "email": "nina@example.nl",
        "first_name": "Nina",
        "last_name": "Nieuw",
        "role": "viewer",
    } | overrides


def test_the_team_page_lists_the_firms_members_with_role_login_two_factor_and_access(
    firm_admin_client, membership, viewer_membership
):
    confirmed_device(viewer_membership.user)
    membership.user.first_name, membership.user.last_name = "Anna", "Accountant"
    membership.user.save()
    MembershipFactory(user__username="stranger")  # another firm

    html = page(firm_admin_client.get(reverse("web:team")))

    assert "Anna Accountant" in html
    assert viewer_membership.user.username in html
    assert "stranger" not in html
    assert html.count('<span class="badge on">On</span>') == 1  # the viewer's two-factor
    assert "Never" in html  # last login
    assert "(you)" in html


@pytest.mark.parametrize("client_fixture", ["accountant_client", "viewer_client"])
def test_only_firm_admins_open_the_team_page(request, client_fixture):
    response = request.getfixturevalue(client_fixture).get(reverse("web:team"))

    assert response.status_code == 403


def test_inviting_shows_the_set_password_link_once_and_mails_it(firm_admin_client, firm_admin_membership):
    response = firm_admin_client.post(reverse("web:team_invite"), invite_data())

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache: the link is not kept by the browser
    link = re.search(r'value="(http://testserver/accounts/set-password/[^"]+)"', page(response)).group(1)
    member = Membership.objects.get(user__username="nina")
    assert (member.firm, member.role) == (firm_admin_membership.firm, Role.VIEWER)
    assert link in mail.outbox[0].body
    assert link not in page(firm_admin_client.get(reverse("web:team")))


def test_the_invited_member_sets_a_password_with_the_link_and_logs_in(firm_admin_client):
    response = firm_admin_client.post(reverse("web:team_invite"), invite_data())
    link = re.search(r'value="http://testserver(/accounts/set-password/[^"]+)"', page(response)).group(1)
    newcomer = Client()

    form_page = newcomer.get(link, follow=True)  # Django swaps the token into the session and redirects
    assert "Set your password" in page(form_page)
    password = "a-long-enough-passphrase-2026"
    done = newcomer.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})

    assert done.status_code == 302
    assert newcomer.login(username="nina", password=password)
    assert "expired or has already been used" in page(Client().get(link, follow=True))


def test_a_taken_username_is_a_clear_form_error(firm_admin_client):
    UserFactory(username="nina")

    response = firm_admin_client.post(reverse("web:team_invite"), invite_data(username="Nina"))

    assert response.status_code == 400
    assert "The username Nina is already taken. Usernames are unique across all firms" in page(response)
    assert Membership.objects.filter(user__username__iexact="nina").count() == 0


def test_an_invalid_invitation_shows_the_form_errors(firm_admin_client):
    response = firm_admin_client.post(reverse("web:team_invite"), invite_data(email="not-an-address"))

    assert response.status_code == 400
    assert 'aria-invalid="true"' in page(response)
    assert not UserFactory._meta.model.objects.filter(username="nina").exists()


def test_a_firm_admin_changes_a_members_role(firm_admin_client, membership):
    response = firm_admin_client.post(reverse("web:team_member_role", args=[membership.pk]), {"role": "firm_admin"})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.FIRM_ADMIN
    assert "Role changed: Accountant → Firm admin" in page(firm_admin_client.get(reverse("web:team")))


def test_a_firm_admin_cannot_change_their_own_role(firm_admin_client, firm_admin_membership):
    response = firm_admin_client.post(
        reverse("web:team_member_role", args=[firm_admin_membership.pk]), {"role": "viewer"}, follow=True
    )

    firm_admin_membership.refresh_from_db()
    assert firm_admin_membership.role == Role.FIRM_ADMIN
    assert "You cannot change your own role or access" in page(response)


def test_a_firm_admin_cannot_deactivate_themselves(firm_admin_client, firm_admin_membership):
    firm_admin_client.post(reverse("web:team_member_deactivate", args=[firm_admin_membership.pk]))

    firm_admin_membership.user.refresh_from_db()
    assert firm_admin_membership.user.is_active


def test_a_deactivated_member_is_logged_out_and_cannot_log_in(firm_admin_client, membership, accountant_client):
    firm_admin_client.post(reverse("web:team_member_deactivate", args=[membership.pk]))

    assert accountant_client.get(reverse("web:home")).status_code == 302  # the open session ends
    assert not Client().login(username=membership.user.username, password="correct-horse-battery-staple")
    assert '<span class="badge off">Deactivated</span>' in page(firm_admin_client.get(reverse("web:team")))


def test_a_deactivated_member_can_be_reactivated(firm_admin_client, membership):
    membership.user.is_active = False
    membership.user.save()

    firm_admin_client.post(reverse("web:team_member_reactivate", args=[membership.pk]))

    membership.user.refresh_from_db()
    assert membership.user.is_active
    assert MembershipChange.objects.get().action == MembershipChange.Action.REACTIVATED


def test_a_firm_admin_issues_a_new_set_password_link(firm_admin_client, membership):
    response = firm_admin_client.post(reverse("web:team_member_password_link", args=[membership.pk]))

    assert response.status_code == 200
    assert "New set-password link for" in page(response)
    assert "/accounts/set-password/" in page(response)


def test_a_firm_admin_resets_a_members_two_factor(firm_admin_client, membership):
    confirmed_device(membership.user)

    firm_admin_client.post(reverse("web:team_member_two_factor_reset", args=[membership.pk]))

    assert not TOTPDevice.objects.filter(user=membership.user).exists()


def test_an_unknown_role_is_refused_with_a_message(firm_admin_client, membership):
    response = firm_admin_client.post(
        reverse("web:team_member_role", args=[membership.pk]), {"role": "owner"}, follow=True
    )

    membership.refresh_from_db()
    assert membership.role == Role.ACCOUNTANT
    assert "Choose a valid role." in page(response)


def test_team_actions_on_another_firms_member_are_not_found(firm_admin_client):
    stranger = MembershipFactory()

    response = firm_admin_client.post(reverse("web:team_member_deactivate", args=[stranger.pk]))

    assert response.status_code == 404
    stranger.user.refresh_from_db()
    assert stranger.user.is_active
