"""Tests of the shared privacy budget in ``sklearn_dpgmm.budget``."""

import dataclasses
import math
import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sklearn_dpgmm.budget as budget_module
from sklearn_dpgmm.accounting import (
    compose_gdp,
    epsilon_from_gdp,
    gdp_from_epsilon_delta,
)
from sklearn_dpgmm.budget import (
    BudgetCharge,
    BudgetExceededError,
    PrivacyBudget,
    active_budget,
    charge_active_budget,
)


@pytest.fixture(autouse=True)
def no_open_budget():
    # Every test starts and must end with no open budget: a budget leaked by
    # one test would charge the fits of all later tests.
    assert active_budget() is None
    yield
    assert active_budget() is None


def _state(budget):
    return budget.charges, budget.n_charges, budget.mu_spent


# Guards the capacity and the composition arithmetic: mu_max is the GDP
# parameter of the (epsilon, delta) target, charges compose as compose_gdp
# does, and epsilon_spent / remaining_mu follow from mu_spent. Values are
# computed the same way on both sides up to summation order, hence 1e-12.
def test_composition_arithmetic():
    budget = PrivacyBudget(epsilon=3.0, delta=1e-5)
    assert budget.mu_max == gdp_from_epsilon_delta(3.0, 1e-5)
    assert budget.epsilon == 3.0 and budget.delta == 1e-5
    assert budget.mu_spent == 0.0
    assert budget.epsilon_spent == 0.0
    assert budget.remaining_mu == budget.mu_max
    assert budget.n_charges == 0 and budget.charges == ()

    mus = [0.3, 0.1, 0.25, 0.05]
    for i, mu in enumerate(mus):
        budget.charge(mu, f"fit {i}")
    assert budget.n_charges == len(mus)
    assert budget.charges == tuple(
        BudgetCharge(description=f"fit {i}", mu=mu) for i, mu in enumerate(mus)
    )
    spent = compose_gdp(mus)
    assert budget.mu_spent == pytest.approx(spent, rel=1e-12)
    assert budget.epsilon_spent == pytest.approx(
        epsilon_from_gdp(spent, 1e-5), rel=1e-12
    )
    assert budget.remaining_mu == pytest.approx(
        math.sqrt(budget.mu_max**2 - spent**2), rel=1e-12
    )
    # GDP composition, not the sum of epsilons: spending is sub-additive.
    assert budget.epsilon_spent < sum(epsilon_from_gdp(mu, 1e-5) for mu in mus)


# Guards the capacity boundary: k equal charges of mu_max / sqrt(k) exactly
# fill the budget and must all be accepted despite rounding (the 1e-12 slack),
# then nothing but a free charge fits.
@pytest.mark.parametrize("k", [1, 3, 7, 50])
def test_budget_can_be_filled_exactly(k):
    budget = PrivacyBudget(epsilon=1.0, delta=1e-6)
    mu = budget.mu_max / math.sqrt(k)
    for _ in range(k):
        budget.charge(mu, "equal share")
    assert budget.n_charges == k
    assert budget.epsilon_spent == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(BudgetExceededError):
        budget.charge(budget.mu_max * 1e-5, "one too many")
    budget.charge(0.0, "free")
    assert budget.n_charges == k + 1


# Guards that a refusal changes nothing: charges, count and spend are the same
# before and after, and the exception is a ValueError carrying a useful
# message (description, requested epsilon, what is left, a suggested fix).
def test_refusal_leaves_state_unchanged():
    budget = PrivacyBudget(epsilon=1.0, delta=1e-5)
    budget.charge(0.2, "first")
    before = _state(budget)
    with pytest.raises(BudgetExceededError) as info:
        budget.charge(0.3, "DPGaussianMixture(epsilon=1.0)")
    assert _state(budget) == before
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "DPGaussianMixture(epsilon=1.0)" in message
    requested = epsilon_from_gdp(0.3, 1e-5)
    left = epsilon_from_gdp(budget.remaining_mu, 1e-5)
    assert f"epsilon={requested:.6g}" in message
    assert f"epsilon={left:.6g}" in message
    assert "larger epsilon" in message
    # A charge that still fits is accepted after the refusal.
    budget.charge(budget.remaining_mu / 2, "smaller")
    assert budget.n_charges == 2


# Guards that the check happens before the work it protects: the estimator
# charges first and only then reads data, so a refused charge must raise
# before any following code runs and leave no record.
def test_refusal_happens_before_the_work():
    work_done = []

    def private_fit(mu):
        charge_active_budget(mu, "private_fit")
        work_done.append(mu)

    with PrivacyBudget(epsilon=0.5, delta=1e-5) as budget:
        private_fit(budget.mu_max / 2)
        n_before = budget.n_charges
        with pytest.raises(BudgetExceededError, match="private_fit"):
            private_fit(budget.mu_max)
    assert work_done == [budget.mu_max / 2]
    assert budget.n_charges == n_before == 1


# Guards that a non-private fit (mu = inf) can never run inside a budget,
# however large, and that mu = 0 is always free, even in a spent budget.
def test_infinite_mu_refused_zero_mu_free():
    budget = PrivacyBudget(epsilon=1e3, delta=0.5)
    with pytest.raises(BudgetExceededError, match="not differentially private"):
        budget.charge(np.inf, "DPGaussianMixture(epsilon=inf)")
    assert budget.n_charges == 0
    with budget, pytest.raises(BudgetExceededError, match="epsilon=inf"):
        charge_active_budget(np.inf, "DPGaussianMixture(epsilon=inf)")
    assert budget.n_charges == 0

    budget.charge(budget.mu_max, "everything")
    budget.charge(0.0, "nothing")
    budget.charge(np.float64(0.0), "nothing again")
    assert budget.n_charges == 3
    assert budget.mu_spent == budget.mu_max


# Guards the context-manager protocol and active_budget: the innermost open
# budget is returned, and exiting (also through an exception, which must
# propagate) restores the previous one.
def test_enter_exit_and_active_budget():
    outer = PrivacyBudget(epsilon=2.0, delta=1e-5)
    inner = PrivacyBudget(epsilon=1.0, delta=1e-5)
    with outer as entered:
        assert entered is outer
        assert active_budget() is outer
        with pytest.raises(RuntimeError, match="boom"), inner:
            assert active_budget() is inner
            raise RuntimeError("boom")
        assert active_budget() is outer
    assert active_budget() is None


# Guards that charge_active_budget is a no-op without an open budget (plain
# fits outside any `with` block, including non-private ones).
def test_no_active_budget_is_noop():
    assert charge_active_budget(0.5, "outside") is None
    assert charge_active_budget(np.inf, "non-private outside") is None


# Guards nesting: every open budget is charged, a refusal by any of them
# (the outermost or the innermost) leaves all of them unchanged, and a budget
# opened twice is charged once.
def test_nested_budgets():
    outer = PrivacyBudget(epsilon=1.0, delta=1e-5)
    inner = PrivacyBudget(epsilon=5.0, delta=1e-6)
    with outer:
        charge_active_budget(0.1, "outer only")
        with inner:
            charge_active_budget(0.15, "both")
            before = (_state(outer), _state(inner))
            # Affordable for inner, not for outer.
            mu = outer.remaining_mu * 1.01
            assert mu < inner.remaining_mu
            with pytest.raises(BudgetExceededError):
                charge_active_budget(mu, "too much for outer")
            assert (_state(outer), _state(inner)) == before
            # Affordable for outer, not for inner (the first to be recorded
            # must not be recorded before the second refuses).
            tight = PrivacyBudget(epsilon=0.1, delta=1e-5)
            with tight:
                mu = tight.remaining_mu * 1.01
                assert mu < outer.remaining_mu
                with pytest.raises(BudgetExceededError):
                    charge_active_budget(mu, "too much for the innermost")
            assert tight.n_charges == 0
            assert (_state(outer), _state(inner)) == before
            with outer:
                charge_active_budget(0.05, "outer re-entered")
    assert [c.description for c in outer.charges] == [
        "outer only",
        "both",
        "outer re-entered",
    ]
    assert [c.description for c in inner.charges] == ["both", "outer re-entered"]
    assert outer.mu_spent == pytest.approx(compose_gdp([0.1, 0.15, 0.05]))
    assert inner.mu_spent == pytest.approx(compose_gdp([0.15, 0.05]))


# Guards re-entry: a budget entered again later keeps its earlier charges and
# keeps spending from the same capacity.
def test_reentry_keeps_spending():
    budget = PrivacyBudget(epsilon=1.0, delta=1e-5)
    share = budget.mu_max / math.sqrt(2)
    with budget:
        charge_active_budget(share, "first session")
    charge_active_budget(share, "outside: not charged")
    assert budget.n_charges == 1
    with budget:
        charge_active_budget(share, "second session")
        with pytest.raises(BudgetExceededError, match="third session"):
            charge_active_budget(share, "third session")
    assert [c.description for c in budget.charges] == [
        "first session",
        "second session",
    ]


# Guards thread safety and the choice of a process-wide stack over a
# contextvar: worker threads (which do not inherit context variables) must see
# the budget opened by the main thread, and concurrent charges must neither be
# lost nor overspend. Capacity is exactly n_fit equal charges, so exactly
# n_fit of the n_try concurrent attempts must succeed.
def test_thread_safety(monkeypatch):
    # Make the budget check slow (the sleep releases the GIL), so that threads
    # would interleave between checking and recording if that were not atomic.
    def slow_compose_gdp(mus):
        time.sleep(1e-4)
        return compose_gdp(mus)

    monkeypatch.setattr(budget_module, "compose_gdp", slow_compose_gdp)
    n_fit, n_try = 40, 400
    budget = PrivacyBudget(epsilon=2.0, delta=1e-5)
    mu = budget.mu_max / math.sqrt(n_fit)

    def attempt(i):
        try:
            charge_active_budget(mu, f"fit {i}")
        except BudgetExceededError:
            return False
        return True

    with budget, ThreadPoolExecutor(max_workers=8) as pool:
        accepted = list(pool.map(attempt, range(n_try)))
    assert sum(accepted) == n_fit
    assert budget.n_charges == n_fit
    assert {c.description for c in budget.charges} == {
        f"fit {i}" for i, ok in enumerate(accepted) if ok
    }
    assert budget.mu_spent <= budget.mu_max * (1 + 1e-12)
    assert budget.mu_spent == pytest.approx(budget.mu_max, rel=1e-12)


# Guards the documented workaround for GridSearchCV: joblib's threading
# backend runs fits in worker threads, which must charge the open budget.
def test_joblib_threading_backend_sees_budget():
    with PrivacyBudget(epsilon=2.0, delta=1e-5) as budget:
        joblib.Parallel(n_jobs=4, backend="threading")(
            joblib.delayed(charge_active_budget)(0.1, f"fit {i}") for i in range(12)
        )
    assert budget.n_charges == 12
    assert budget.mu_spent == pytest.approx(compose_gdp([0.1] * 12), rel=1e-12)


# Guards that the charge records are immutable, so users cannot rewrite the
# spending history through budget.charges.
def test_charges_are_read_only():
    budget = PrivacyBudget(epsilon=1.0, delta=1e-5)
    budget.charge(0.1, "fit")
    record = budget.charges[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.mu = 0.0
    assert isinstance(budget.charges, tuple)
    assert budget.mu_spent == 0.1


# Guards constructor validation: clear messages naming the parameter and
# echoing the offending value.
@pytest.mark.parametrize(
    "epsilon, pattern",
    [
        (0.0, r"epsilon must be a finite number > 0; got 0\.0"),
        (-1.0, r"epsilon must be a finite number > 0; got -1\.0"),
        (np.inf, r"epsilon must be a finite number > 0; got inf"),
        (np.nan, r"epsilon must be a finite number > 0; got nan"),
        ("1.0", r"epsilon must be a finite number > 0; got '1\.0'"),
        (True, r"epsilon must be a finite number > 0; got True"),
        (None, r"epsilon must be a finite number > 0; got None"),
    ],
)
def test_invalid_epsilon(epsilon, pattern):
    with pytest.raises(ValueError, match=pattern):
        PrivacyBudget(epsilon=epsilon, delta=1e-5)


@pytest.mark.parametrize(
    "delta, pattern",
    [
        (0.0, r"delta must be a number in \(0, 1\); got 0\.0"),
        (1.0, r"delta must be a number in \(0, 1\); got 1\.0"),
        (-1e-5, r"delta must be a number in \(0, 1\); got -1e-05"),
        (np.nan, r"delta must be a number in \(0, 1\); got nan"),
        ("1e-5", r"delta must be a number in \(0, 1\); got '1e-5'"),
    ],
)
def test_invalid_delta(delta, pattern):
    with pytest.raises(ValueError, match=pattern):
        PrivacyBudget(epsilon=1.0, delta=delta)


# Guards charge validation: a negative or NaN mu is a caller bug, reported as
# a plain ValueError (not a BudgetExceededError) and never recorded, whether
# or not a budget is open.
@pytest.mark.parametrize("mu", [-0.1, -np.inf, np.nan, "0.1", None])
def test_invalid_mu(mu):
    budget = PrivacyBudget(epsilon=1.0, delta=1e-5)
    with pytest.raises(ValueError, match=r"mu must be a number >= 0") as info:
        budget.charge(mu, "bad")
    assert not isinstance(info.value, BudgetExceededError)
    with pytest.raises(ValueError, match=r"mu must be a number >= 0"):
        charge_active_budget(mu, "bad, no budget open")
    with budget, pytest.raises(ValueError, match=r"mu must be a number >= 0"):
        charge_active_budget(mu, "bad, budget open")
    assert budget.n_charges == 0


# Guards the accept/refuse rule as a property: a sequence of charges is
# accepted exactly while its compose_gdp total stays within mu_max, and the
# spend always equals compose_gdp of the accepted charges.
@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.floats(min_value=0.05, max_value=10.0),
    st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=15),
)
def test_accepts_exactly_what_fits(epsilon, mus):
    budget = PrivacyBudget(epsilon=epsilon, delta=1e-6)
    accepted = []
    for mu in mus:
        fits = compose_gdp(accepted + [mu]) <= budget.mu_max * (1 + 1e-12)
        if fits:
            budget.charge(mu, "")
            accepted.append(mu)
        else:
            with pytest.raises(BudgetExceededError):
                budget.charge(mu, "")
        assert budget.mu_spent == pytest.approx(compose_gdp(accepted), rel=1e-12)
    assert budget.n_charges == len(accepted)
    assert budget.mu_spent <= budget.mu_max * (1 + 1e-12)
