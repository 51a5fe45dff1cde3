"""The readiness scan benchmark's customer mix is what it says it is, by the identifier checks the product uses (its
own check refused the mix once the product judged a letter in a KvK number as an official warning)."""

from __future__ import annotations

from collections import Counter

from benchmarks.readiness_scan import INVALID, check_identifiers, customers_for


def test_the_mix_passes_its_own_check_with_every_kind_present():
    customers = customers_for(2_000, seed=1)

    check_identifiers(customers)  # raises when a number is not what its kind says

    kinds = Counter(customer.kind.outcome for customer in customers)
    assert kinds[INVALID] > 0 and len(kinds) >= 3
