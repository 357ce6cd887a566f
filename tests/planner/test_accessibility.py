"""E2SFCA: a hand-computed example, supply conservation, decay weights, validation."""

from __future__ import annotations

import numpy as np
import pytest

from planner.coverage.accessibility import (
    DEFAULT_BANDS,
    GaussianDecay,
    band_weights,
    e2sfca,
    gaussian_weights,
)
from planner.errors import InputError


def test_hand_computed_example() -> None:
    # demand points a(100), b(50), c(200), d(40); facilities X(10), Y(5), Z(3), W(7)
    # a–X  5 min → 1.00    b–X 15 → 0.68    b–Y  8 → 1.00    c–Y 25 → 0.22
    # c–X 40 → beyond: 0   d–Z 20 → 0.68 (upper bounds inclusive)    d–Y 30 → 0.22
    # W has no pair at all.
    res = e2sfca(
        [100, 50, 200, 40],
        [10, 5, 3, 7],
        demand=[0, 1, 1, 2, 2, 3, 3],
        facility=[0, 0, 1, 1, 0, 2, 1],
        minutes=[5, 15, 8, 25, 40, 20, 30],
    )
    r_x = 10 / (100 * 1.00 + 50 * 0.68)  # 10 / 134
    r_y = 5 / (50 * 1.00 + 200 * 0.22 + 40 * 0.22)  # 5 / 102.8
    r_z = 3 / (40 * 0.68)  # 3 / 27.2
    assert res.ratio == pytest.approx([r_x, r_y, r_z, 0.0], rel=1e-12)
    assert res.index == pytest.approx(
        [r_x, 0.68 * r_x + r_y, 0.22 * r_y, 0.68 * r_z + 0.22 * r_y], rel=1e-12
    )
    # supply is conserved for the facilities with demand: 10 + 5 + 3, not W's 7
    assert np.dot([100, 50, 200, 40], res.index) == pytest.approx(18.0, rel=1e-12)


def test_all_within_weight_one_reach_gives_the_overall_ratio() -> None:
    rng = np.random.default_rng(1)
    pop = rng.integers(1, 80, 12).astype(float)
    sup = rng.integers(1, 30, 4).astype(float)
    d, f = np.repeat(np.arange(12), 4), np.tile(np.arange(4), 12)
    res = e2sfca(pop, sup, demand=d, facility=f, minutes=rng.uniform(0, 10, d.size))
    assert res.index == pytest.approx(np.full(12, sup.sum() / pop.sum()), rel=1e-12)
    assert np.dot(pop, res.index) == pytest.approx(sup.sum(), rel=1e-12)


@pytest.mark.parametrize("decay", [DEFAULT_BANDS, ((5, 1.0), (45, 0.3)), GaussianDecay(25.0)])
@pytest.mark.parametrize("seed", range(5))
def test_supply_is_conserved_when_every_facility_has_demand(decay: object, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_d, n_f = 40, 7
    pop = rng.integers(0, 50, n_d).astype(float)
    pop[0] = 10.0
    sup = rng.uniform(0, 20, n_f)
    pairs = rng.random((n_d, n_f)) < 0.5
    pairs[0] = True  # demand point 0 (10 persons) reaches every facility …
    d, f = np.nonzero(pairs)
    m = rng.uniform(0, 60, d.size)
    m[d == 0] = rng.uniform(0, 9, n_f)  # … at positive weight
    res = e2sfca(pop, sup, demand=d, facility=f, minutes=m, bands=decay)  # type: ignore[arg-type]
    assert np.all(res.ratio >= 0) and np.all(res.index >= 0)
    assert np.dot(pop, res.index) == pytest.approx(sup.sum(), rel=1e-10)


def test_facility_without_weighted_demand_has_ratio_zero_without_warnings() -> None:
    # Y: no pair; Z: only a zero-population point; V: only beyond the catchment
    res = e2sfca(
        [10, 0, 30],
        [5, 7, 2, 4],
        demand=[0, 1, 2],
        facility=[0, 2, 3],
        minutes=[3, 1, 31],
    )
    assert res.ratio.tolist() == [0.5, 0.0, 0.0, 0.0]
    assert res.index.tolist() == [0.5, 0.0, 0.0]
    empty = e2sfca([0, 0], [3], demand=[], facility=[], minutes=[])
    assert empty.index.tolist() == [0.0, 0.0] and empty.ratio.tolist() == [0.0]


def test_band_edges_are_inclusive() -> None:
    w = band_weights([0, 10, 10.01, 20, 30, 30.5], DEFAULT_BANDS)
    assert w.tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.0]


def test_gaussian_decay() -> None:
    w = gaussian_weights([0, 10, 20, 29.9, 30, 45], 30)
    assert w[0] == 1.0 and w[4] == 0.0 and w[5] == 0.0
    assert np.all(np.diff(w[:5]) < 0) and w[3] > 0
    edge = np.exp(-0.5)
    assert w[1] == pytest.approx((np.exp(-0.5 / 9) - edge) / (1 - edge))
    res = e2sfca([10, 20], [6], demand=[0, 1], facility=[0, 0], minutes=[0, 30],
                 bands=GaussianDecay(30))  # fmt: skip
    assert res.ratio.tolist() == [0.6] and res.index.tolist() == [0.6, 0.0]


@pytest.mark.parametrize(
    ("bands", "match"),
    [
        (((20, 1.0), (10, 0.5)), "严格递增"),
        (((10, 1.0), (10, 0.5)), "严格递增"),
        (((0, 1.0),), "为正"),
        (((10, 1.5),), "权重"),
        (((10, 1.0), (20, 0.0)), "权重"),
        (((10, 1.0), (20, -0.2)), "权重"),
        ((), "非空"),
        (((10, 1.0, 3),), "非空"),
        ((("a", 1.0),), "序列"),
    ],
)
def test_invalid_bands(bands: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        e2sfca([1], [1], demand=[0], facility=[0], minutes=[1], bands=bands)  # type: ignore[arg-type]


def test_invalid_gaussian_catchment() -> None:
    with pytest.raises(InputError, match="catchment_min"):
        GaussianDecay(0)


@pytest.mark.parametrize(
    ("population", "supply", "pairs", "match"),
    [
        ([1], [1], ([0, 0], [0], [1]), "长度必须一致"),
        ([1], [1], ([1], [0], [1]), "不存在的需求点"),
        ([1], [1], ([0], [2], [1]), "不存在的设施"),
        ([1], [1], ([0], [0], [-3]), "minutes"),
        ([1], [1], ([0], [0], [np.nan]), "minutes"),
        ([1, 1], [1], ([0, 0], [0, 0], [1, 2]), "出现了多次"),
        ([-1], [1], ([0], [0], [1]), "population 不能为负数"),
        ([1], [np.nan], ([0], [0], [1]), "supply 必须是有限数"),
        ([[1]], [1], ([0], [0], [1]), "population 必须是一维数组"),
    ],
)
def test_invalid_inputs(
    population: object, supply: object, pairs: tuple[list[float], ...], match: str
) -> None:
    d, f, m = pairs
    with pytest.raises(InputError, match=match):
        e2sfca(population, supply, demand=d, facility=f, minutes=m)  # type: ignore[arg-type]
