"""Statistics against values computed by hand (and published tables)."""

from __future__ import annotations

import math

import pytest

from skillstudio.evals.stats import mcnemar_exact, percentile, wilson


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (2, 3, 0.2077, 0.9385),  # the classic 2/3 example
    (0, 3, 0.0, 0.5615),
    (3, 3, 0.4385, 1.0),
    (5, 10, 0.2366, 0.7634),
    (81, 263, 0.2553, 0.3662),  # Wilson (1927) style textbook case
])
def test_wilson_matches_hand_computed_bounds(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_without_data_is_uninformative() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_mcnemar_exact_two_sided() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 5) == pytest.approx(2 * 7 / 64)  # (C(6,0)+C(6,1)) / 2^6, doubled
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(6, 0) == mcnemar_exact(0, 6)  # symmetric
    assert mcnemar_exact(3, 3) == 1.0
    # 2 vs 10 discordant pairs: sum_{i<=2} C(12,i) / 2^12 = 79/4096, doubled
    assert mcnemar_exact(2, 10) == pytest.approx(2 * 79 / 4096)
    assert math.isclose(mcnemar_exact(2, 10), 0.0386, abs_tol=1e-4)


def test_percentiles_interpolate_like_numpy() -> None:
    xs = [0.4, 0.1, 0.3, 0.2]
    assert percentile(xs, 50) == pytest.approx(0.25)
    assert percentile(xs, 95) == pytest.approx(0.385)
    assert percentile(xs, 0) == pytest.approx(0.1)
    assert percentile([], 50) is None
    assert percentile([2.0], 95) == 2.0
