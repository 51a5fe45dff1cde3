"""The hostile-input campaign's tripwires, shared by the corpus and fuzz tests."""

import pytest

from campaigns.hostile import AccessGuard, Campaign, Tripwires


@pytest.fixture(scope="module")
def tripwires():
    wires = Tripwires()
    yield wires
    wires.close()


@pytest.fixture
def campaign(tripwires):
    return Campaign(tripwires=tripwires, guard=AccessGuard(forbidden=tripwires.forbidden_paths))
