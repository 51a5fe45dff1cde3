import pytest
from cryptography.fernet import Fernet, MultiFernet
from encrypted_model_fields import fields as encrypted_fields

from tests.portal.accounts.factories import MembershipFactory, UserFactory


@pytest.fixture
def membership(db):
    return MembershipFactory()


@pytest.fixture
def accountant_client(client, membership):
    client.force_login(membership.user)
    return client


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
