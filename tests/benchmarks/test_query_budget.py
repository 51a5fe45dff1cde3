from benchmarks.harness import QueryBudget

BUDGET = QueryBudget(per_document=15, per_environment=60)


def test_the_allowance_per_document_shrinks_towards_the_fixed_part_as_the_batch_grows():
    assert BUDGET.allowed(100, 10) == 21
    assert BUDGET.allowed(1000, 10) == 15.6


def test_a_run_within_the_budget_passes_and_one_above_it_fails_with_the_figures():
    assert BUDGET.problem(15_400, 1000, 10, "invoice") is None

    problem = BUDGET.problem(16_000, 1000, 10, "invoice")

    assert (
        problem == "over the query budget: 16.0 queries per invoice; budget 15.6 (15 per invoice, 60 per environment)"
    )
