"""A short fuzz run in the suite (``python -m campaigns.hostile`` runs the long one): the UBL parser and the Peppol
identifier parser give a result or their documented typed error, never anything else, each example in bounded time."""

from hypothesis import HealthCheck, given, settings

from campaigns.hostile import TIME_LIMIT, AccessGuard, fuzz, fuzz_strategies, identifier_fuzz_check, ubl_fuzz_check

STRATEGIES = fuzz_strategies()
GUARD = AccessGuard()
SHORT = settings(
    max_examples=300,
    deadline=TIME_LIMIT * 1000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def touching_nothing(check, example) -> None:
    with GUARD.watch() as seen:
        check(example)
    assert not seen, seen


@SHORT
@given(STRATEGIES["random bytes"])
def test_random_bytes_are_read_or_refused(data):
    touching_nothing(ubl_fuzz_check, data)


@SHORT
@given(STRATEGIES["mutated invoice"])
def test_mutations_of_a_valid_invoice_are_read_or_refused(data):
    touching_nothing(ubl_fuzz_check, data)


@SHORT
@given(STRATEGIES["UBL-shaped tree"])
def test_ubl_elements_in_any_shape_and_encoding_are_read_or_refused(data):
    touching_nothing(ubl_fuzz_check, data)


@SHORT
@given(STRATEGIES["identifier text"])
def test_any_text_is_an_identifier_that_reads_back_as_itself_or_a_syntax_error(text):
    touching_nothing(identifier_fuzz_check, text)


def test_the_time_bounded_fuzz_run_counts_examples_and_reports_failures():
    failing = fuzz("always fails", lambda example: 1 / 0, STRATEGIES["random bytes"], seconds=0, max_examples=5)
    passing = fuzz("identifiers", identifier_fuzz_check, STRATEGIES["identifier text"], seconds=0, max_examples=20)

    assert failing.failures == 1 and "ZeroDivisionError" in failing.first_failure
    assert passing.failures == 0 and passing.examples >= 20
