import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.test import Client
from django.utils import translation
from encrypted_model_fields import fields as encrypted_fields

from portal.accounts.models import Membership
from tests.portal.accounts.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Dutch leaves Dutch active in this thread (LocaleMiddleware activates, nothing deactivates); every
    test starts in the default language, whatever ran before it."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _process_memory_reset():
    """The process remembers recent successes per environment id (portal/organisations/health.py) and eConnect
    security tokens per key (integrations/econnect/soap.py); ids and keys repeat between tests, so each test starts
    without that memory."""
    from integrations.econnect.soap_sessions import forget_sessions
    from portal.organisations import health

    health._success_written.clear()
    forget_sessions()
    yield
    health._success_written.clear()
    forget_sessions()


@pytest.fixture
def membership(db):
    return MembershipFactory()


@pytest.fixture
def accountant_client(client, membership):
    client.force_login(membership.user)
    return client


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_membership(membership):
    """A viewer of the same firm as ``membership``."""
    return MembershipFactory(firm=membership.firm, role=Membership.Role.VIEWER)


@pytest.fixture
def firm_admin_membership(membership):
    """A firm admin of the same firm as ``membership``."""
    return MembershipFactory(firm=membership.firm, role=Membership.Role.FIRM_ADMIN)


@pytest.fixture
def viewer_client(viewer_membership):
    return _logged_in(viewer_membership.user)


@pytest.fixture
def firm_admin_client(firm_admin_membership):
    return _logged_in(firm_admin_membership.user)


@pytest.fixture
def support_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def wrong_encryption_key(monkeypatch):
    """Simulates starting the portal with a FIELD_ENCRYPTION_KEY other than the one data was stored with."""
    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))


@pytest.fixture(scope="session")
def shared_peppol():
    from tests.shared_artefacts import require_shared_peppol

    return require_shared_peppol()


@pytest.fixture(scope="session")
def official_validator(shared_peppol):
    """The validator with the official rules pack, compiled once for the whole test session."""
    from integrations.peppol.validation import load_validator

    return load_validator(shared_peppol)
