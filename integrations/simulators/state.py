"""A simulator's state as one JSON document, optionally persisted to a directory (atomic writes)."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class StateStore:
    """Holds ``data`` (a JSON-able dict). ``lock`` guards every read-modify-write; ``save`` persists it."""

    def __init__(self, directory: Path | None, *, name: str, initial: Callable[[], dict[str, Any]]):
        self.path = directory / f"{name}.json" if directory else None
        self._initial = initial
        self.lock = threading.RLock()
        self.data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        if self.path and self.path.exists():
            return json.loads(self.path.read_text())
        return self._initial()

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            with os.fdopen(fd, "w") as handle:
                json.dump(self.data, handle)
            os.replace(tmp, self.path)

    def reset(self) -> None:
        with self.lock:
            self.data = self._initial()
            self.save()
