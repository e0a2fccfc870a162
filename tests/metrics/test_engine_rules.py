"""Rules of the engine that hold for every metric: the small-sample interval on rates."""

from __future__ import annotations

import pytest

from deskpulse.metrics.engine import wilson_interval


def test_wilson_interval_of_8_in_10() -> None:
    # p = 0.8, z = 1.96, z² = 3.8416, n = 10, d = 1 + z²/n = 1.38416
    # centre = (p + z²/2n) / d = 0.99208 / 1.38416 = 0.716738
    # margin = z·√(p(1−p)/n + z²/4n²) / d = 1.96 · √(0.016 + 0.009604) / 1.38416 = 0.226581
    # → 0.490157 … 0.943319 (statsmodels' proportion_confint(8, 10, method="wilson") gives the same)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490157, abs=1e-6)
    assert high == pytest.approx(0.943319, abs=1e-6)


def test_wilson_interval_stays_inside_0_and_1_and_is_wide_for_tiny_samples() -> None:
    # 1 of 1: d = 4.8416, centre = 2.9208 / 4.8416 = 0.603272, margin = 1.96 · 0.98 / 4.8416 = 0.396728
    low, high = wilson_interval(1, 1)
    assert low == pytest.approx(0.206543, abs=1e-6)  # one success in one try says little
    assert high == 1.0
    # 0 of 50: centre = margin = (3.8416 / 100) / 1.076832 = 0.035675 → 0 … 0.071350
    low, high = wilson_interval(0, 50)
    assert low == 0.0
    assert high == pytest.approx(0.071350, abs=1e-6)
    assert wilson_interval(0, 0) == (None, None)
