import importlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.simulators.server import serve

# Each simulator package exposes create_app(*, state_dir) and seed_demo(app) (idempotent).
SIMULATORS = {
    "afas": ("integrations.afas.simulator", 8101),
    "econnect": ("integrations.econnect.simulator", 8102),
}


class Command(BaseCommand):
    help = "Run the AFAS or eConnect simulator as a live HTTP server (control API under /_sim/)."

    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("simulator", choices=sorted(SIMULATORS))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="default: 8101 for afas, 8102 for econnect")
        parser.add_argument("--state", type=Path, help="directory that keeps the simulator's state across restarts")
        parser.add_argument("--seed", action="store_true", help="load the demo data (idempotent)")

    def handle(self, *args, simulator: str, host: str, port: int | None, state: Path | None, seed: bool, **options):
        module_name, default_port = SIMULATORS[simulator]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise CommandError(f"The {simulator} simulator is not available: {exc}") from exc
        app = module.create_app(state_dir=state)
        if seed:
            module.seed_demo(app)
        serve(app, host, port or default_port)
