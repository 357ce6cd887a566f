import numpy as np
import pytest

from planner._errors import InputError
from planner.accessibility import band_weights, e2sfca


def test_hand_computed_example() -> None:
    # demand points a(100), b(50), c(200); facilities X(10 places), Y(5 places)
    # a–X 5 min (1.0), b–X 15 (0.68), b–Y 8 (1.0), c–Y 25 (0.22), c–X 40 (beyond: 0)
    res = e2sfca(
        [100, 50, 200],
        [10, 5],
        demand=[0, 1, 1, 2, 2],
        facility=[0, 0, 1, 1, 0],
        minutes=[5, 15, 8, 25, 40],
    )
    rx = 10 / (100 * 1.0 + 50 * 0.68)
    ry = 5 / (50 * 1.0 + 200 * 0.22)
    assert res.ratio == pytest.approx([rx, ry])
    assert res.index == pytest.approx([rx, rx * 0.68 + ry, ry * 0.22])


def test_supply_is_conserved_when_every_facility_has_demand() -> None:
    rng = np.random.default_rng(3)
    pop = rng.integers(1, 50, 30).astype(float)
    sup = rng.integers(1, 20, 6).astype(float)
    d = np.repeat(np.arange(30), 6)
    f = np.tile(np.arange(6), 30)
    m = rng.uniform(0, 30, d.size)
    res = e2sfca(pop, sup, demand=d, facility=f, minutes=m)
    assert np.dot(pop, res.index) == pytest.approx(sup.sum())


def test_facility_without_demand_has_ratio_zero() -> None:
    res = e2sfca([10], [5, 7], demand=[0], facility=[0], minutes=[3])
    assert res.ratio.tolist() == [0.5, 0.0]


def test_band_edges_are_inclusive() -> None:
    w = band_weights(np.array([0, 10, 10.01, 20, 30, 30.5]), ((10, 1.0), (20, 0.68), (30, 0.22)))
    assert w.tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.0]


def test_invalid_bands() -> None:
    with pytest.raises(InputError, match="递增"):
        e2sfca([1], [1], demand=[0], facility=[0], minutes=[1], bands=((20, 1.0), (10, 0.5)))
    with pytest.raises(InputError, match="权重"):
        e2sfca([1], [1], demand=[0], facility=[0], minutes=[1], bands=((10, 1.5),))
