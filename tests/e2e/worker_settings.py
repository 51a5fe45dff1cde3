"""Settings for the Celery worker and beat the end-to-end tests start: the test settings, but not eager.

``tests.settings`` forces eager tasks for the in-process suite; a real worker that ran the tasks it enqueues
itself (collect → prepare → submit) eagerly would not exercise the broker between the steps.
"""

from tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
