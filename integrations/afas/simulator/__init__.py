"""The AFAS simulator (Profit REST and Small Business), for ``python manage.py simulate afas`` and for tests.

``create_app(state_dir=...)`` makes the WSGI app (state persisted in ``state_dir/afas.json`` when given);
``seed_demo(app)`` loads the demo world and may be called again without effect. See ``AfasSimulator`` for the
URL shape, the ``/_sim/`` control API and the fault operation names.
"""

from __future__ import annotations

from pathlib import Path

from integrations.afas.simulator.app import AfasSimulator
from integrations.afas.simulator.demo import seed_demo


def create_app(*, state_dir: Path | None = None) -> AfasSimulator:
    return AfasSimulator(state_dir)


__all__ = ["AfasSimulator", "create_app", "seed_demo"]
