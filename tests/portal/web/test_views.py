import pytest
from django.urls import reverse

from portal.organisations.services import environment_set_credentials
from tests.portal.accounts.factories import TEST_PASSWORD, UserFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="Own Client B.V."))


@pytest.fixture
def other_firms_environment():
    return EnvironmentFactory(organisation=OrganisationFactory(name="Other Firm's Client B.V."))


def test_home_lists_only_the_users_own_firms_clients(accountant_client, own_environment, other_firms_environment):
    response = accountant_client.get(reverse("web:home"))

    assert response.status_code == 200
    assert "Own Client B.V." in response.content.decode()
    assert "Other Firm&#x27;s Client B.V." not in response.content.decode()
    assert "Other Firm's Client B.V." not in response.content.decode()


@pytest.mark.parametrize(
    "url_name, target", [("web:organisation_detail", "organisation"), ("web:environment_detail", "environment")]
)
def test_another_firms_objects_are_not_found(accountant_client, other_firms_environment, url_name, target):
    obj = other_firms_environment if target == "environment" else other_firms_environment.organisation

    response = accountant_client.get(reverse(url_name, args=[obj.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "url_name, target", [("web:organisation_detail", "organisation"), ("web:environment_detail", "environment")]
)
def test_own_firms_objects_are_shown(accountant_client, own_environment, url_name, target):
    obj = own_environment if target == "environment" else own_environment.organisation

    response = accountant_client.get(reverse(url_name, args=[obj.pk]))

    assert response.status_code == 200


def test_environment_page_shows_that_credentials_are_set_but_never_their_values(accountant_client, own_environment):
    environment_set_credentials(
        environment=own_environment,
        actor=None,
        afas_token="AFAS-TOKEN-SECRET-VALUE",
        econnect_app_key="ECONNECT-KEY-VALUE",
        econnect_app_secret="ECONNECT-SECRET-VALUE",
    )

    page = accountant_client.get(reverse("web:environment_detail", args=[own_environment.pk])).content.decode()

    assert "set on" in page
    for secret in ("AFAS-TOKEN-SECRET-VALUE", "ECONNECT-KEY-VALUE", "ECONNECT-SECRET-VALUE"):
        assert secret not in page
        assert secret[:6] not in page


def test_anonymous_visitors_are_sent_to_the_login_page(client, own_environment):
    response = client.get(reverse("web:environment_detail", args=[own_environment.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_firm_is_told_why(client):
    client.force_login(UserFactory())

    response = client.get(reverse("web:home"))

    assert response.status_code == 403
    assert "not linked to a firm" in response.content.decode()


def test_support_staff_without_a_firm_are_sent_to_the_admin(client):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_login_page_renders(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_an_accountant_logs_in_and_lands_on_the_firms_clients(client, membership):
    response = client.post(
        reverse("login"), {"username": membership.user.username, "password": TEST_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert membership.firm.name in response.content.decode()


def test_a_wrong_password_is_refused(client, membership):
    response = client.post(reverse("login"), {"username": membership.user.username, "password": "wrong"})

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
