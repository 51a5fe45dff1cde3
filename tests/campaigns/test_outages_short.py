"""The outage campaign's restarts: the lock file says RESTARTING exactly while a service is down, and a service is
always started again, also when stopping it goes wrong.

The campaign itself restarts this machine's PostgreSQL and Redis, so it runs in CI as a step of ``.ci/run``
(``python -m campaigns.outages --short``) and never inside the test suite, whose own connections it would cut.
"""

from __future__ import annotations

import pytest

from campaigns.outages import Service, ensure_services_up, restart_service
from campaigns.stack import CampaignError


class FakeService:
    """A service whose stop and start are recorded, with what the lock held at each moment."""

    def __init__(self, lock, *, stops: bool = True, starts: bool = True):
        self.lock, self.stops, self.starts = lock, stops, starts
        self.up = True
        self.calls: list[tuple[str, str]] = []

    def _lock(self) -> str:
        return self.lock.read_text() if self.lock.exists() else "(none)"

    def stop(self) -> bool:
        self.calls.append(("stop", self._lock()))
        self.up = not self.stops
        return self.stops

    def start(self) -> bool:
        self.calls.append(("start", self._lock()))
        self.up = self.up or self.starts
        return self.starts

    def service(self) -> Service:
        return Service("Fake", lambda: self.up, self.stop, self.start)


def test_a_restart_holds_the_lock_while_the_service_is_down_and_removes_it_after(tmp_path):
    lock = tmp_path / "outage.lock"
    fake = FakeService(lock)

    seconds = restart_service(fake.service(), down_seconds=0.1, lock=lock)

    assert fake.calls == [("stop", "RESTARTING\n"), ("start", "RESTARTING\n")]
    assert fake.up
    assert not lock.exists()
    assert seconds >= 0.1


def test_a_service_that_does_not_stop_is_still_up_and_the_lock_is_removed(tmp_path, monkeypatch):
    monkeypatch.setattr("campaigns.outages._poll", lambda condition, timeout: condition())
    lock = tmp_path / "outage.lock"
    fake = FakeService(lock, stops=False)

    with pytest.raises(CampaignError, match="did not stop"):
        restart_service(fake.service(), down_seconds=0, lock=lock)

    assert fake.up
    assert not lock.exists()


def test_a_service_that_does_not_come_back_is_an_error_not_a_silent_success(tmp_path, monkeypatch):
    monkeypatch.setattr("campaigns.outages._poll", lambda condition, timeout: condition())
    lock = tmp_path / "outage.lock"
    fake = FakeService(lock, starts=False)

    with pytest.raises(CampaignError, match="did not come back"):
        restart_service(fake.service(), down_seconds=0, lock=lock)

    assert [call for call, _ in fake.calls] == ["stop", "start"]
    assert not lock.exists()


def test_a_service_found_down_at_the_end_is_started_again(tmp_path):
    lock = tmp_path / "outage.lock"
    fake = FakeService(lock)
    fake.up = False

    assert ensure_services_up((fake.service(),), lock=lock) == []

    assert fake.calls == [("start", "RESTARTING\n")]
    assert fake.up
    assert not lock.exists()
