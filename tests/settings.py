"""Settings for the test suite: the portal's own settings with test-only secrets and eager tasks.

DATABASE_URL and CELERY_BROKER_URL from the environment still apply, so the same suite
runs against PostgreSQL and Redis (see .ci/postgres-redis).
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else")
# A fixed key for tests only; development keys are generated into var/ and never committed.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "t0QrD705f3nDK_nFrqrPIQiC0SYWY3rIXdtuSl8IBJE=")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _origin_checkout(repo: str) -> str | None:
    """The local checkout this one was cloned from (``git clone . /tmp/fresh``), so a clone finds ../shared too."""
    import configparser

    config = configparser.ConfigParser(strict=False)
    try:
        config.read(os.path.join(repo, ".git", "config"))
        url = config.get('remote "origin"', "url", fallback="")
    except (configparser.Error, OSError):
        return None
    return url if url.startswith("/") and os.path.isdir(url) else None


for _base in filter(None, (_REPO, _origin_checkout(_REPO))):
    _SHARED_PEPPOL = os.path.join(_base, "..", "shared", "peppol")
    if os.path.isdir(_SHARED_PEPPOL):
        os.environ.setdefault("PEPPOL_RULES_DIR", os.path.normpath(_SHARED_PEPPOL))
        break
os.environ.setdefault("PORTAL_VAR_DIR", os.path.join(tempfile.gettempdir(), f"portal-tests-{os.getuid()}"))

from portal.settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True
ECONNECT_SIMULATOR_CONTROL_URL = ""  # tests that need it set it to their own simulator
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
