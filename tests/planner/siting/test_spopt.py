"""Our MCLP, LSCP and p-median against spopt's on identical instances.

spopt builds its models with PuLP and solves them with the CBC bundled with
PuLP; the answers (covered persons, number of sites, person-minutes) are
scored here from the facilities spopt picks, and must equal ours.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

pytest.importorskip("spopt")
pulp = pytest.importorskip("pulp")

from spopt.locate import LSCP, MCLP, PMedian  # noqa: E402

from planner.siting import SitingProblem, evaluate, solve  # noqa: E402
from tests.planner.siting.conftest import pairs_from_dense, random_geometry  # noqa: E402

# PuLP ≥ 3.3 deprecates APIs that spopt 0.7 uses (LpVariable(...), PULP_CBC_CMD)
pytestmark = pytest.mark.filterwarnings(r"ignore:.*PuLP 4\.0:DeprecationWarning")

RADIUS = 10.0
SEEDS = range(4)


def cbc() -> object:
    return pulp.PULP_CBC_CMD(msg=False)


def instance(seed: int, *, beyond: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weights and a dense cost matrix (minutes), entries above 25 set to ``beyond``."""
    g = random_geometry(seed, n=(20, 30), m=(8, 10))
    cost = g["minutes"].copy()
    cost[cost > 25] = beyond
    return g["demand"], cost


def our_problem(objective: str, weights, cost, **fields) -> SitingProblem:  # type: ignore[no-untyped-def]
    pd_, ps, pm = pairs_from_dense(cost, reach=np.inf)
    m = cost.shape[1]
    return SitingProblem(
        objective=objective,  # type: ignore[arg-type]
        demand=weights,
        pair_demand=pd_,
        pair_site=ps,
        pair_minutes=pm,
        existing=np.zeros(m, bool),
        site_cost=np.zeros(m),
        site_capacity=np.full(m, np.inf),
        threshold_min=RADIUS,
        **fields,
    )


def chosen(model: object) -> NDArray[np.int64]:
    return np.array(
        [j for j, v in enumerate(model.fac_vars) if v.value() > 0.5],  # type: ignore[attr-defined]
        np.int64,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p_facilities", [1, 3])
def test_mclp_matches_spopt(seed: int, p_facilities: int) -> None:
    weights, cost = instance(seed, beyond=np.inf)
    theirs = MCLP.from_cost_matrix(cost, weights, RADIUS, p_facilities).solve(cbc())
    sites = chosen(theirs)
    assert len(sites) == p_facilities
    their_cover = float(weights[(cost[:, sites] <= RADIUS).any(axis=1)].sum())
    assert their_cover == pytest.approx(theirs.problem.objective.value())
    p = our_problem("mclp", weights, cost, max_new=p_facilities)
    ours = solve(p, mip_gap=1e-9)
    assert ours.objective == pytest.approx(their_cover, rel=1e-9)
    # and their plan scores the same on our problem
    assert evaluate(p, opened=sites)[0] == pytest.approx(their_cover, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_matches_spopt(seed: int) -> None:
    weights, cost = instance(seed, beyond=np.inf)
    # spopt's LSCP must cover every point: keep the coverable ones
    keep = (cost <= RADIUS).any(axis=1)
    weights, cost = weights[keep], cost[keep]
    theirs = LSCP.from_cost_matrix(cost, RADIUS).solve(cbc())
    sites = chosen(theirs)
    assert (cost[:, sites] <= RADIUS).any(axis=1).all()
    ours = solve(our_problem("lscp", weights, cost, target=1.0), mip_gap=1e-9)
    assert ours.objective == len(sites)
    assert len(ours.opened) == len(sites)
    assert ours.served.sum() == pytest.approx(weights.sum())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p_facilities", [1, 2, 4])
def test_pmedian_matches_spopt(seed: int, p_facilities: int) -> None:
    weights, cost = instance(seed, beyond=60.0)  # every point reaches every site
    theirs = PMedian.from_cost_matrix(cost, weights, p_facilities).solve(cbc())
    sites = chosen(theirs)
    assert len(sites) == p_facilities
    their_total = float(weights @ cost[:, sites].min(axis=1))
    assert their_total == pytest.approx(theirs.problem.objective.value(), rel=1e-6)
    # the penalty exceeds every travel time: nobody is left unassigned
    p = our_problem("pmedian", weights, cost, max_new=p_facilities, unserved_minutes=1_000.0)
    ours = solve(p, mip_gap=1e-9)
    assert ours.objective == pytest.approx(their_total, rel=1e-6)
    assert ours.person_minutes == pytest.approx(their_total, rel=1e-6)
    np.testing.assert_allclose(ours.served, weights)
    assert evaluate(p, opened=sites)[0] == pytest.approx(their_total, rel=1e-6)
