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
_SHARED_PEPPOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "peppol")
if os.path.isdir(_SHARED_PEPPOL):
    os.environ.setdefault("PEPPOL_RULES_DIR", os.path.normpath(_SHARED_PEPPOL))
os.environ.setdefault("PORTAL_VAR_DIR", os.path.join(tempfile.gettempdir(), f"portal-tests-{os.getuid()}"))

from portal.settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True
ECONNECT_SIMULATOR_CONTROL_URL = ""  # tests that need it set it to their own simulator
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
