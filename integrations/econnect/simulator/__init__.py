"""The eConnect simulator: ``python manage.py simulate econnect --port 8102 [--state DIR] [--seed]``.

SOAP endpoint ``/soap/v3.1``; public Peppol lookup ``/api/v1/peppol/deliveryOption`` (production network) and
``/accp/api/v1/peppol/deliveryOption`` (test network); control API under ``/_sim/``.
"""

from __future__ import annotations

from pathlib import Path

from integrations.econnect.simulator.app import EConnectSimulator
from integrations.econnect.simulator.seed import seed_demo

__all__ = ["EConnectSimulator", "create_app", "seed_demo"]


def create_app(*, state_dir: Path | None = None) -> EConnectSimulator:
    return EConnectSimulator(state_dir=state_dir)
