"""Development-only secrets, generated once into ``var/`` and never committed.

Used by settings when DEBUG is on and the variable is not set. Creation is
race-free (web, worker and beat start at the same time): the key is written to
a temporary file and hard-linked into place, so a reader never sees half a key.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, generate: Callable[[], str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as tmp:
                tmp.write(generate())
            os.chmod(tmp_name, 0o600)
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            os.unlink(tmp_name)
    return path.read_text().strip()


def generate_secret_key() -> str:
    return secrets.token_urlsafe(50)


def generate_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
