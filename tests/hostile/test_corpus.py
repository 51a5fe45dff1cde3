"""Every parser entry point against the hostile corpus: a typed refusal or a result, in time, touching nothing outside.

The same corpus and checks as ``python -m campaigns.hostile`` (which adds a longer fuzz run and prints the table).
"""

import pytest
from django.db import connection

from campaigns.hostile import ENTRY_POINTS, ENTRY_TIME_LIMITS, NEEDS_DATABASE, TIME_LIMIT, run_corpus

# Entry points whose remaining problems are in files owned elsewhere (reported to the lead with the exact fix). The
# marks are strict: once the fix is in, the test passes, the mark fails, and it must be removed.
OUTSIDE_FIXES: dict[str, str] = {}

# Only PostgreSQL refuses NUL characters in text parameters; SQLite takes them.
OUTSIDE_FIXES_ON_POSTGRESQL: dict[str, str] = {}


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            label,
            marks=[
                *([pytest.mark.django_db] if label in NEEDS_DATABASE else []),
                *([pytest.mark.xfail(strict=True, reason=OUTSIDE_FIXES[label])] if label in OUTSIDE_FIXES else []),
            ],
            id=label,
        )
        for label, _, _ in ENTRY_POINTS
    ],
)
def test_every_hostile_input_is_refused_or_read_in_time_touching_nothing(entry, campaign, request):
    if entry in NEEDS_DATABASE and entry in OUTSIDE_FIXES_ON_POSTGRESQL and connection.vendor == "postgresql":
        request.applymarker(pytest.mark.xfail(strict=True, reason=OUTSIDE_FIXES_ON_POSTGRESQL[entry]))
    run_corpus(campaign, entries={entry})
    results = campaign.results
    assert len(results) >= 15, f"{entry}: only {len(results)} cases ran"
    problems = [f"{r.kind}: {p}" for r in results for p in r.problems]
    assert not problems, "\n".join(problems[:30])
    assert max(r.seconds for r in results) <= max(TIME_LIMIT, ENTRY_TIME_LIMITS.get(entry, 0.0))
