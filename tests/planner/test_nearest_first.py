"""The nearest-first capacity split: its definition by brute force, the literal rule,
the maximum of ``assign``, hand-computed cases, input-order invariance, validation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from planner.coverage.allocation import assign
from planner.coverage.nearest_first import RULE_ZH, nearest_first
from planner.errors import InputError


@dataclass(frozen=True)
class Instance:
    """Persons in groups sharing candidate pairs; keys break ties."""

    person_group: NDArray[np.int64]
    capacity: NDArray[np.float64]
    group: NDArray[np.int64]
    facility: NDArray[np.int64]
    minutes: NDArray[np.float64]
    person_key: NDArray[np.int64]
    facility_key: NDArray[np.int64]

    def solve(self) -> NDArray[np.int64]:
        res = nearest_first(
            self.person_group,
            self.capacity,
            group=self.group,
            facility=self.facility,
            minutes=self.minutes,
            person_key=self.person_key,
            facility_key=self.facility_key,
        )
        assert res.total_served == int((res.facility >= 0).sum())
        assert (
            res.load.tolist()
            == np.bincount(res.facility[res.facility >= 0], minlength=self.capacity.size).tolist()
        )
        return res.facility

    def options(self) -> list[list[tuple[int, float]]]:
        """Per person: (facility, minutes) of each pair of its group."""
        return [
            [
                (int(f), float(m))
                for g, f, m in zip(self.group, self.facility, self.minutes, strict=True)
                if g == pg
            ]
            for pg in self.person_group
        ]

    def feasible(self) -> list[tuple[int, ...]]:
        """Every assignment (facility or -1 per person) within the capacities."""
        choices = [[-1] + [f for f, _ in opts] for opts in self.options()]
        out = []
        for combo in itertools.product(*choices):
            load = np.bincount([f for f in combo if f >= 0], minlength=self.capacity.size)
            if (load <= self.capacity).all():
                out.append(combo)
        return out


def tiny(seed: int) -> Instance:
    """≤ 7 persons in ≤ 5 groups, ≤ 4 facilities with 0–2 places or unlimited; whole
    minutes half of the time (many ties); keys shuffled."""
    rng = np.random.default_rng(seed)
    n_g, n_f, n_p = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(0, 8))
    capacity = rng.integers(0, 3, n_f).astype(float)
    capacity[rng.random(n_f) < 0.15] = np.inf
    pairs = [(g, f) for g in range(n_g) for f in range(n_f) if rng.random() < 0.55]
    if rng.random() < 0.5:
        minutes = rng.integers(0, 4, len(pairs)).astype(float)
    else:
        minutes = np.round(rng.uniform(0, 30, len(pairs)), 1)
    return Instance(
        person_group=rng.integers(0, n_g, n_p),
        capacity=capacity,
        group=np.array([p[0] for p in pairs], dtype=np.int64),
        facility=np.array([p[1] for p in pairs], dtype=np.int64),
        minutes=minutes,
        person_key=rng.permutation(n_p) * 7 + 100,
        facility_key=rng.permutation(n_f) * 3 - 5,
    )


def tight(seed: int) -> Instance:
    """3–7 persons in 2–4 groups competing for 2–3 facilities of 1–2 places, each group
    reaching one or two of them: the plain greedy often falls short of the maximum."""
    rng = np.random.default_rng(seed)
    n_g, n_f, n_p = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(3, 8))
    pairs = [
        (g, int(f))
        for g in range(n_g)
        for f in sorted(rng.choice(n_f, size=int(rng.integers(1, 3)), replace=False))
    ]
    if rng.random() < 0.5:
        minutes = rng.integers(0, 4, len(pairs)).astype(float)
    else:
        minutes = np.round(rng.uniform(0, 30, len(pairs)), 1)
    return Instance(
        person_group=rng.integers(0, n_g, n_p),
        capacity=rng.integers(1, 3, n_f).astype(float),
        group=np.array([p[0] for p in pairs], dtype=np.int64),
        facility=np.array([p[1] for p in pairs], dtype=np.int64),
        minutes=minutes,
        person_key=rng.permutation(n_p) * 7 + 100,
        facility_key=rng.permutation(n_f) * 3 - 5,
    )


def by_definition(inst: Instance) -> tuple[int, ...]:
    """Of all assignments serving the most persons, the one whose pairs sorted by
    (minutes, person key, facility key) form the smallest list."""
    best: tuple[int, list[tuple[float, int, int]]] | None = None
    choice: tuple[int, ...] = ()
    minutes = {
        (i, f): m for i, opts in enumerate(inst.options()) for f, m in opts
    }  # (person, facility) -> minutes
    for combo in inst.feasible():
        used = sorted(
            (minutes[i, f], int(inst.person_key[i]), int(inst.facility_key[f]))
            for i, f in enumerate(combo)
            if f >= 0
        )
        key = (-len(used), used)
        if best is None or key < best:
            best, choice = key, combo
    return choice


def literally(inst: Instance) -> tuple[tuple[int, ...], int]:
    """The rule as stated: down the ordered pairs, give the place when the person has
    none, the facility has one free and some assignment serving the maximum contains
    everything given so far plus this pair (found by enumeration). Also the number
    of pairs skipped by that last clause alone."""
    feasible = inst.feasible()
    most = max(sum(f >= 0 for f in c) for c in feasible)
    maxima = [c for c in feasible if sum(f >= 0 for f in c) == most]
    events = sorted(
        (m, int(inst.person_key[i]), int(inst.facility_key[f]), i, f)
        for i, opts in enumerate(inst.options())
        for f, m in opts
    )
    given: dict[int, int] = {}
    load = np.zeros(inst.capacity.size)
    skipped = 0
    for _, _, _, i, f in events:
        if i in given or load[f] >= inst.capacity[f]:
            continue
        trial = {**given, i: f}
        if any(all(c[p] == q for p, q in trial.items()) for c in maxima):
            given, load[f] = trial, load[f] + 1
        else:
            skipped += 1
    return tuple(given.get(i, -1) for i in range(inst.person_group.size)), skipped


@pytest.mark.parametrize("seed", range(160))
def test_equals_the_definition_by_brute_force(seed: int) -> None:
    inst = (tiny, tight)[seed % 2](seed)
    assert tuple(inst.solve()) == by_definition(inst)


@pytest.mark.parametrize("seed", range(1000, 1200))
def test_equals_the_rule_followed_literally(seed: int) -> None:
    inst = (tiny, tight)[seed % 2](seed)
    expected, skipped = literally(inst)
    res = nearest_first(
        inst.person_group,
        inst.capacity,
        group=inst.group,
        facility=inst.facility,
        minutes=inst.minutes,
        person_key=inst.person_key,
        facility_key=inst.facility_key,
    )
    assert tuple(res.facility) == expected
    assert res.skipped == skipped


def test_the_brute_force_cases_exercise_the_maximum_clause() -> None:
    """The random cases above include ones where the plain greedy falls short."""
    skips = [literally(tight(seed))[1] for seed in range(1000, 1200, 2)]
    assert sum(s > 0 for s in skips) >= 5


def test_the_worked_example_of_the_rule() -> None:
    """F and G, one place each; A reaches F in 5 and G in 9 min, B only F, in 8 min.
    The plain greedy gives F to A and serves one; the rule serves both: B at F, A at G."""
    res = nearest_first([0, 1], [1, 1], group=[0, 0, 1], facility=[0, 1, 0], minutes=[5, 9, 8])
    assert res.facility.tolist() == [1, 0]
    assert res.minutes.tolist() == [9.0, 8.0]
    assert (res.total_served, res.skipped) == (2, 1)
    assert "就近" in RULE_ZH and "最大值" in RULE_ZH


def test_ties_go_by_person_key_then_facility_key() -> None:
    # two persons at the same point, two facilities at the same minutes, one place each
    res = nearest_first(
        [0, 0], [1, 1], group=[0, 0], facility=[0, 1], minutes=[4, 4], person_key=[20, 10]
    )
    assert res.facility.tolist() == [1, 0]  # key 10 first, to facility key 0
    res = nearest_first(
        [0, 0],
        [1, 1],
        group=[0, 0],
        facility=[0, 1],
        minutes=[4, 4],
        person_key=[20, 10],
        facility_key=[9, 3],
    )
    assert res.facility.tolist() == [0, 1]  # key 10 first, to facility key 3 (index 1)


def test_one_place_left_goes_to_the_nearest_village() -> None:
    """Three villages share one home with 2 places: the two nearest get them."""
    res = nearest_first([0, 1, 2], [2], group=[0, 1, 2], facility=[0, 0, 0], minutes=[12, 3, 7])
    assert res.facility.tolist() == [-1, 0, 0]
    assert res.skipped == 0


def plain_greedy(inst: Instance) -> tuple[int, ...]:
    """Clauses 1 and 2 alone."""
    events = sorted(
        (m, int(inst.person_key[i]), int(inst.facility_key[f]), i, f)
        for i, opts in enumerate(inst.options())
        for f, m in opts
    )
    given: dict[int, int] = {}
    load = np.zeros(inst.capacity.size)
    for _, _, _, i, f in events:
        if i not in given and load[f] < inst.capacity[f]:
            given[i], load[f] = f, load[f] + 1
    return tuple(given.get(i, -1) for i in range(inst.person_group.size))


@pytest.mark.parametrize("seed", range(2000, 2040))
def test_when_the_greedy_reaches_the_maximum_it_is_the_split(seed: int) -> None:
    inst = tiny(seed)
    greedy = plain_greedy(inst)
    res = inst.solve()
    if sum(f >= 0 for f in greedy) == int((res >= 0).sum()):
        assert tuple(res) == greedy
    else:
        assert sum(f >= 0 for f in greedy) < int((res >= 0).sum())


def medium(seed: int, *, n_g: int = 150, n_f: int = 12, ratio: float = 1.0) -> Instance:
    """Groups of 1–5 persons in a 20 × 20 km square, pairs within 30 min (2 min/km)."""
    rng = np.random.default_rng(seed)
    gx, fx = rng.uniform(0, 20, (n_g, 2)), rng.uniform(0, 20, (n_f, 2))
    d = rng.integers(1, 6, n_g)
    dist = np.linalg.norm(gx[:, None] - fx[None], axis=2)
    g, f = np.nonzero(dist * 2 <= 30 * rng.uniform(0.3, 1.0))
    cap = np.floor(rng.uniform(0.3, 1.7, n_f) * d.sum() * ratio / n_f)
    n_p = int(d.sum())
    return Instance(
        person_group=np.repeat(np.arange(n_g), d),
        capacity=cap,
        group=g.astype(np.int64),
        facility=f.astype(np.int64),
        minutes=np.round(dist[g, f] * 2, 2),
        person_key=rng.permutation(n_p),
        facility_key=rng.permutation(n_f),
    )


@pytest.mark.parametrize("seed", range(12))
def test_the_total_is_the_maximum_of_assign(seed: int) -> None:
    inst = medium(seed, ratio=(0.6, 1.0, 1.4)[seed % 3])
    res = nearest_first(
        inst.person_group,
        inst.capacity,
        group=inst.group,
        facility=inst.facility,
        minutes=inst.minutes,
        person_key=inst.person_key,
        facility_key=inst.facility_key,
    )
    demand = np.bincount(inst.person_group, minlength=150)
    exact = assign(
        demand, inst.capacity, group=inst.group, facility=inst.facility, minutes=inst.minutes
    )
    assert res.total_served == exact.total_served
    assert (res.load <= inst.capacity).all()
    # every person placed is placed on a pair of its group, at that pair's minutes
    pair_minutes = {
        (int(g), int(f)): m for g, f, m in zip(inst.group, inst.facility, inst.minutes, strict=True)
    }
    for i in np.flatnonzero(res.facility >= 0):
        key = (int(inst.person_group[i]), int(res.facility[i]))
        assert res.minutes[i] == pair_minutes[key]


def test_the_maximum_clause_fires_on_a_tight_district() -> None:
    """Capacity equal to demand: the plain greedy falls short, the rule does not."""
    inst = medium(7, ratio=1.0)
    res = nearest_first(
        inst.person_group,
        inst.capacity,
        group=inst.group,
        facility=inst.facility,
        minutes=inst.minutes,
        person_key=inst.person_key,
        facility_key=inst.facility_key,
    )
    exact = assign(
        np.bincount(inst.person_group, minlength=150),
        inst.capacity,
        group=inst.group,
        facility=inst.facility,
        minutes=inst.minutes,
    )
    assert res.skipped > 0
    assert res.total_served == exact.total_served


def shuffled(inst: Instance, seed: int) -> tuple[Instance, NDArray[np.int64], NDArray[np.int64]]:
    """The same instance with persons, groups, facilities and pairs renumbered and
    reordered (keys travel with them); the new index of each person and facility."""
    rng = np.random.default_rng(seed)
    n_p, n_f = inst.person_group.size, inst.capacity.size
    n_g = int(max(inst.person_group.max(initial=-1), inst.group.max(initial=-1))) + 1
    new_p, new_g, new_f = rng.permutation(n_p), rng.permutation(n_g), rng.permutation(n_f)
    order_p = np.argsort(new_p)
    pair_order = rng.permutation(inst.group.size)
    capacity = np.empty(n_f)
    capacity[new_f] = inst.capacity
    fkey = np.empty(n_f, dtype=np.int64)
    fkey[new_f] = inst.facility_key
    out = Instance(
        person_group=new_g[inst.person_group][order_p],
        capacity=capacity,
        group=new_g[inst.group][pair_order],
        facility=new_f[inst.facility][pair_order],
        minutes=inst.minutes[pair_order],
        person_key=inst.person_key[order_p],
        facility_key=fkey,
    )
    return out, new_p, new_f


@pytest.mark.parametrize("seed", range(10))
def test_the_split_does_not_depend_on_the_input_order(seed: int) -> None:
    inst = medium(100 + seed, ratio=(0.8, 1.0)[seed % 2])
    base = inst.solve()
    other, new_p, new_f = shuffled(inst, seed)
    again = other.solve()
    # person i is other's person new_p[i]; facility f is other's new_f[f]
    mapped = np.where(base >= 0, new_f[np.maximum(base, 0)], -1)
    assert again[new_p].tolist() == mapped.tolist()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"person_key": [1, 1]}, "person_key 不能有重复值"),
        ({"facility_key": [0]}, "facility_key 长度必须为 2"),
        ({"person_key": [0.5, 2]}, "person_key 必须是整数"),
    ],
)
def test_keys_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        nearest_first([0, 0], [1, 1], group=[0], facility=[0], minutes=[1], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0], [-1]), "capacity（容量）必须是非负整数"),
        (([0], [1.5]), "capacity（容量）必须是非负整数"),
        (([0], [np.nan]), "capacity（容量）必须是非负整数"),
        (([-1], [1]), "person_group 必须是非负整数下标"),
    ],
)
def test_inputs_are_checked(args: tuple[list[float], list[float]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        nearest_first(*args, group=[0], facility=[0], minutes=[1])


def test_nothing_to_place() -> None:
    res = nearest_first([], [], group=[], facility=[], minutes=[])
    assert (res.total_served, res.facility.size, res.load.size) == (0, 0, 0)
    res = nearest_first([0, 0], [3], group=[], facility=[], minutes=[])
    assert res.facility.tolist() == [-1, -1] and res.load.tolist() == [0]
