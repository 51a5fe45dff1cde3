"""A stand-in for eConnect's Peppol directory lookup, as the route check and the own-identifier page use it."""

from __future__ import annotations

from integrations.econnect.models import AccessPoint, ParticipantLookup, Reachability
from integrations.peppol.identifiers import PeppolIdentifier


class FakeLookup:
    """The Peppol directory as the route check sees it: what it says per identifier, or an error."""

    def __init__(self, found=None, error=None):
        self.found, self.error, self.asked = found or {}, error, []

    def participants(self, identifiers):
        self.asked.extend(identifiers)
        if self.error:
            raise self.error
        return self.found

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def registered(icd: str, access_point: AccessPoint = AccessPoint.ECONNECT) -> dict:
    """The directory's answer: ``icd`` is registered at ``access_point``."""
    identifier = PeppolIdentifier(*icd.split(":", 1))
    return {
        identifier: ParticipantLookup(
            identifier=identifier,
            reachability=Reachability.REGISTERED,
            access_point=access_point,
            endpoint_url=f"https://ap.{access_point.value}.example/as4",
        )
    }
