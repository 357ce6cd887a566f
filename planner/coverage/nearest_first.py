"""Who gets the places: the nearest-first capacity split, a rule one can repeat by hand.

The rule (:data:`RULE_ZH` states it to users)
---------------------------------------------
List every pair (person, facility within reach) in the order

    travel minutes, then the person's key, then the facility's key

and go down the list once. The person gets a place at the facility when

1. the person has no place yet,
2. the facility still has a free place, and
3. giving it still lets the maximum number of persons be served (the capacity
   maximum: :func:`planner.coverage.allocation.assign` computes the same total).

Without clause 3 this is the plain greedy "everyone to the nearest facility with
a free place, the shortest trip first". The greedy alone can serve fewer than
the maximum: facilities F and G with one place each, person A reaches F in 5 min
and G in 9 min, person B reaches only F, in 8 min. The greedy gives F to A, then
B finds F full: one person served, where two can be (A at G, B at F). Clause 3
skips "A at F" (it would leave B without any place), so B gets F and A gets G.
Whenever the plain greedy serves the maximum, clause 3 never skips a pair and
both give the same split: every pair the greedy takes lies, with all those
taken before it, in the greedy's own assignment, which serves the maximum.

Equivalently: of all assignments serving the maximum, the one whose pairs, sorted
in the order above, form the lexicographically smallest list (the first pair as
early as possible, then the second, …). Keys are unique, so the order is strict
and the split is unique: the same people, facilities and travel times give the
same persons served, per village and per facility, whatever order the rows come
in. The tests compare it with that definition by brute force.

Method
------
Persons at the same origin (a *group*) share their pairs and, on equal terms,
are taken in key order, so the state is counted per group–facility pair: ``P``,
the places given so far. Clause 3 is a maximum-flow question: can the persons
still without a place fill the free places, over the pairs not refused, up to
the maximum? The walk goes in rounds (:class:`_Walk`):

1. the plain greedy (clauses 1 and 2) from the current step to the end;
2. if all it gives keeps the maximum (one maximum flow), that is the rest of the
   split: every step before the end kept it too, since ``P`` only grows;
3. else the first step that breaks it is found by doubling, then halving, the
   number of the greedy's gifts checked (one maximum flow each,
   :func:`scipy.sparse.csgraph.maximum_flow`, Dinic); that step gets as many
   places as keep the maximum, its pair is refused, and the next round starts
   after it.

A refusal comes with a proof that covers other pairs: in the residual network of
a maximum flow above ``P``, the nodes reachable from the refused pair's facility
form a set no arc leaves, and the nodes that reach its group a set no arc
enters; no maximum flow above ``P`` moves anyone across such a border, so every
pair across it is refused at once (:meth:`_Flows.refused_with`). Pairs no
maximum flow uses (the minimum cut's backward pairs) are refused from the start,
and a group's pairs after its nearest unlimited facility are dropped.

Measured (2-core container shared with other jobs, wall seconds; the synthetic
district of :mod:`planner.coverage.allocation`, groups of 1–5 persons, each with
its ``k`` nearest facilities within 30 min, places = ratio × persons; ``assign``
for comparison, which gives the same total)::

    groups × facilities   k    ratio  pairs      skipped  nearest_first  assign
    demo (奉化, 8 types)                                0       0.06 in all
    10,000 × 100         3    0.8    30,000     4,609    2.8            0.2
    10,000 × 100         100  1.0    328,213    15,492   6.6            2.0
    10,000 × 30          30   0.9    104,048    42,773   2.7            0.7
    30,000 × 200         200  1.0    1,879,483  32,789   49             30
    30,000 × 200         3    1.0    90,000     38,508   26             0.4

When the plain greedy reaches the maximum (``skipped`` 0, as in the demo) one
maximum flow decides everything; the rounds cost about 20 maximum flows per
refusal that no earlier proof covered (111 in the last row).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from planner.coverage._pairs import pairs, vector
from planner.errors import InputError

__all__ = ["RULE_ZH", "Split", "nearest_first"]

#: The rule as users read it (README, CSV notes, ``--json`` ``assignment_rule``).
RULE_ZH = (
    "容量内分配规则（就近优先）：把每个人与其可达设施的所有配对按通行时间从短到长排列"
    "（时间相同按身份证号、再按设施编号），依次处理：此人尚无名额、该设施尚有空余名额，"
    "且这样分配仍能使容量内服务总人数达到最大值时，即把该名额分给此人；否则跳过。"
    "同样的数据无论输入顺序如何，各村社、各设施的人数都唯一确定。"
)

_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Split:
    """Persons placed by the nearest-first rule.

    Attributes
    ----------
    facility
        Per person: the facility index of the place given, -1 without a place.
    minutes
        Per person: travel minutes to that facility, NaN without a place.
    load
        Places given per facility (persons), shape ``(n_facilities,)``.
    total_served
        Persons with a place: the capacity maximum.
    skipped
        Pairs passed over by clause 3 only (the person had no place and the
        facility a free one): 0 when the plain greedy reaches the maximum.
    seconds
        Wall time of the call (s).
    """

    facility: NDArray[np.int64]
    minutes: NDArray[np.float64]
    load: NDArray[np.int64]
    total_served: int
    skipped: int
    seconds: float


def nearest_first(
    person_group: ArrayLike,
    capacity: ArrayLike,
    *,
    group: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    person_key: ArrayLike | None = None,
    facility_key: ArrayLike | None = None,
) -> Split:
    """Give the places by the nearest-first rule, kept at the maximum (module notes).

    Parameters
    ----------
    person_group
        Per person: the index of its group (persons who share their candidate
        pairs, e.g. everyone travelling from the same network node).
    capacity
        Places per facility (persons), whole numbers ``>= 0``, or ``np.inf``
        for unlimited.
    group, facility, minutes
        Candidate pairs (same length): group index, facility index and travel
        minutes (finite, ``>= 0``); each (group, facility) at most once.
    person_key, facility_key
        Distinct whole numbers ordering persons and facilities on equal minutes
        (e.g. the rank of the ID number and of the facility code). Default: the
        index order.

    Returns
    -------
    Split

    Raises
    ------
    InputError
        On mismatched shapes, indices out of range, duplicate pairs or keys,
        negative, non-integral or missing values, or 2^31 - 1 persons or more.
    """
    start = time.perf_counter()
    prob = _problem(person_group, capacity, group, facility, minutes, person_key, facility_key)
    walk = _Walk(prob)
    walk.run()
    given, skipped = walk.log, walk.skipped
    n_persons = prob.person_rank.shape[0]
    fac = np.full(n_persons, -1, dtype=np.int64)
    mins = np.full(n_persons, np.nan)
    done = np.zeros(prob.d.shape[0], dtype=np.int64)
    for k, count in given:
        g = int(prob.g[k])
        who = prob.members[prob.ptr[g] + done[g] : prob.ptr[g] + done[g] + count]
        fac[who] = prob.f[k]
        mins[who] = prob.m[k]
        done[g] += count
    load = np.bincount(fac[fac >= 0], minlength=prob.cap.shape[0]).astype(np.int64)
    return Split(
        facility=fac,
        minutes=mins,
        load=load,
        total_served=int((fac >= 0).sum()),
        skipped=skipped,
        seconds=time.perf_counter() - start,
    )


# ---- the problem -------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Validated, reduced input; pairs sorted by (minutes, facility key, group)."""

    d: NDArray[np.int64]  # persons per group
    members: NDArray[np.int64]  # persons, by group, each group in key order
    ptr: NDArray[np.int64]  # group g's persons: members[ptr[g]:ptr[g + 1]]
    person_rank: NDArray[np.int64]  # per person: rank of its key
    cap: NDArray[np.float64]  # inf: never binds
    fac_rank: NDArray[np.int64]  # per facility: rank of its key
    g: NDArray[np.int64]
    f: NDArray[np.int64]
    m: NDArray[np.float64]


def _ranks(name: str, values: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """Rank 0..n-1 of distinct whole-number keys (default: the index)."""
    if values is None:
        return np.arange(n, dtype=np.int64)
    arr = vector(name, values)
    if arr.shape != (n,):
        raise InputError(f"{name} 长度必须为 {n}（实际 {arr.size}）")
    if not np.isfinite(arr).all() or (arr != np.floor(arr)).any():
        raise InputError(f"{name} 必须是整数")
    if np.unique(arr).size != n:
        raise InputError(f"{name} 不能有重复值（用于确定同等条件下的先后）")
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(arr, kind="stable")] = np.arange(n)
    return rank


def _capacity(values: ArrayLike) -> NDArray[np.float64]:
    arr = vector("capacity", values)
    finite = np.isfinite(arr)
    if np.isnan(arr).any() or (arr < 0).any() or (arr[finite] != np.floor(arr[finite])).any():
        raise InputError("capacity（容量）必须是非负整数（人），不限容量用 inf")
    return arr


def _problem(
    person_group: ArrayLike,
    capacity: ArrayLike,
    group: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    person_key: ArrayLike | None,
    facility_key: ArrayLike | None,
) -> _Problem:
    pg = vector("person_group", person_group)
    if not np.isfinite(pg).all() or (pg != np.floor(pg)).any() or (pg < 0).any():
        raise InputError("person_group 必须是非负整数下标")
    pg_i = pg.astype(np.int64)
    cap = _capacity(capacity)
    n_f = cap.shape[0]
    gv = vector("group", group)
    n_g = int(max(pg_i.max(initial=-1), gv.max(initial=-1))) + 1
    g, f, m = pairs(
        gv, facility, minutes, n_rows=n_g, n_f=n_f, row_name="group", row_label="需求组",
        pair_label="候选配对",
    )  # fmt: skip
    if pg_i.size >= _INT32_MAX - 1:
        raise InputError("人数过多（须小于 2^31 - 1）")
    person_rank = _ranks("person_key", person_key, pg_i.size)
    fac_rank = _ranks("facility_key", facility_key, n_f)
    d = np.bincount(pg_i, minlength=n_g).astype(np.int64)
    members = np.lexsort((person_rank, pg_i)).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(d)]).astype(np.int64)
    # capacities that cannot bind are unlimited; pairs that can carry nothing go
    useful = (d[g] > 0) & (cap[f] > 0)
    g, f, m = g[useful], f[useful], m[useful]
    reach = np.bincount(f, weights=d[g], minlength=n_f)
    cap = np.where(cap >= reach, np.inf, cap)
    order = np.lexsort((fac_rank[f], m, g))  # each group's pairs in its persons' order
    g, f, m = g[order], f[order], m[order]
    unl = np.isinf(cap[f]).astype(np.int64)
    seen_unl = np.cumsum(unl) - unl  # unlimited pairs before, counted from the start
    group_start = np.searchsorted(g, g, side="left")
    keep = seen_unl - seen_unl[group_start] == 0  # no unlimited pair earlier in the group
    g, f, m = g[keep], f[keep], m[keep]
    order = np.lexsort((g, fac_rank[f], m))
    return _Problem(
        d=d, members=members, ptr=ptr, person_rank=person_rank, cap=cap, fac_rank=fac_rank,
        g=g[order], f=f[order], m=m[order],
    )  # fmt: skip


# ---- maximum flows ------------------------------------------------------------------


@dataclass(frozen=True)
class _Cut:
    """The maximum and the minimum cut of the maximum flows."""

    total: int  # the maximum (persons)
    dead: NDArray[np.bool_]  # pairs no maximum flow uses
    partial: NDArray[np.bool_]  # groups some maximum flow leaves partly unserved
    full: NDArray[np.bool_]  # facilities every maximum flow fills


class _Flows:
    """Maximum-flow questions on a problem (nodes: groups, facilities, ``s``, ``t``)."""

    def __init__(self, p: _Problem) -> None:
        self.p = p
        self.n_g, self.n_f = p.d.shape[0], p.cap.shape[0]
        self.n = self.n_g + self.n_f + 2
        self.s, self.t = self.n_g + self.n_f, self.n_g + self.n_f + 1
        self.big = int(p.d.sum()) + 1  # more than any flow: stands for "unlimited"
        self.cap_i = np.where(np.isfinite(p.cap), p.cap, self.big).astype(np.int64)

    def _loads(self, x: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        p = self.p
        served = np.bincount(p.g, weights=x, minlength=self.n_g).astype(np.int64)
        load = np.bincount(p.f, weights=x, minlength=self.n_f).astype(np.int64)
        return served, load

    def more(
        self, given: NDArray[np.int64], usable: NDArray[np.bool_]
    ) -> tuple[int, NDArray[np.int64]]:
        """Most persons that can be added to ``given`` (per pair) on the usable pairs,
        and where (per pair)."""
        p, n_g = self.p, self.n_g
        served, load = self._loads(given)
        use = np.flatnonzero(usable)
        rows = np.concatenate([np.full(n_g, self.s), p.g[use], n_g + np.arange(self.n_f)])
        cols = np.concatenate([np.arange(n_g), n_g + p.f[use], np.full(self.n_f, self.t)])
        vals = np.concatenate([p.d - served, np.full(use.size, self.big), self.cap_i - load])
        keep = vals > 0
        net = sparse.csr_array(
            (vals[keep].astype(np.int32), (rows[keep], cols[keep])), shape=(self.n, self.n)
        )
        res = maximum_flow(net, self.s, self.t, method="dinic")
        add = np.zeros(p.g.shape[0], dtype=np.int64)
        if use.size:
            add[use] = np.asarray(res.flow[p.g[use], n_g + p.f[use]], dtype=np.int64).ravel()
        return int(res.flow_value), add

    def cut(self) -> _Cut:
        """The maximum, and what the minimum cut says of every maximum flow."""
        p, n_g = self.p, self.n_g
        every = np.ones(p.g.shape[0], dtype=bool)
        total, x = self.more(np.zeros(p.g.shape[0], dtype=np.int64), every)
        served, _ = self._loads(x)
        back = np.flatnonzero(x > 0)
        rows = np.concatenate([np.full(n_g, self.s), p.g, n_g + p.f[back]])
        cols = np.concatenate([np.arange(n_g), n_g + p.f, p.g[back]])
        arcs = np.concatenate([p.d > served, every, np.ones(back.size, dtype=bool)])
        seen = self._reach(rows[arcs], cols[arcs], self.s)
        dead = ~seen[p.g] & seen[n_g + p.f]
        return _Cut(total, dead, seen[:n_g], seen[n_g : n_g + self.n_f])

    def _reach(
        self, rows: NDArray[np.int64], cols: NDArray[np.int64], start: int
    ) -> NDArray[np.bool_]:
        graph = sparse.csr_array(
            (np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(self.n, self.n)
        )
        seen = np.zeros(self.n, dtype=bool)
        seen[breadth_first_order(graph, start, directed=True, return_predecessors=False)] = True
        return seen

    def refused_with(
        self,
        k: int,
        given: NDArray[np.int64],
        usable: NDArray[np.bool_],
        cut: _Cut,
    ) -> NDArray[np.bool_]:
        """Pairs refused for good along with pair ``k``, which cannot take one more person.

        In the residual network of a maximum flow ``W`` above ``given`` (only the arcs
        a maximum flow can change), the nodes reachable from ``k``'s facility form a
        set no arc leaves, and those that reach ``k``'s group a set no arc enters.
        Every maximum flow above ``given`` differs from ``W`` by circulations that
        cannot cross such a border, so no pair into the first set from outside, nor
        out of the second to outside, can take one more person.
        """
        p, n_g = self.p, self.n_g
        _, add = self.more(given, usable)
        served, load = self._loads(given + add)
        groups, facs = np.arange(n_g), n_g + np.arange(self.n_f)
        fwd, back = np.flatnonzero(usable), np.flatnonzero(add > 0)
        may_drop = cut.partial & (served > 0)
        may_add = cut.partial & (p.d > served)
        may_gain = ~cut.full & (self.cap_i > load)
        may_lose = ~cut.full & (load > 0)
        rows = np.concatenate(
            [p.g[fwd], n_g + p.f[back], groups[may_drop], np.full(int(may_add.sum()), self.s),
             facs[may_gain], np.full(int(may_lose.sum()), self.t)]
        )  # fmt: skip
        cols = np.concatenate(
            [n_g + p.f[fwd], p.g[back], np.full(int(may_drop.sum()), self.s), groups[may_add],
             np.full(int(may_gain.sum()), self.t), facs[may_lose]]
        )  # fmt: skip
        ahead = self._reach(rows, cols, n_g + int(p.f[k]))
        behind = self._reach(cols, rows, int(p.g[k]))
        into = ahead[n_g + p.f] & ~ahead[p.g]
        out_of = behind[p.g] & ~behind[n_g + p.f]
        return usable & (into | out_of)


# ---- the walk down the ordered pairs ------------------------------------------------


def _ties(m: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``start, stop`` of each run of equal minutes in the sorted pairs."""
    cut = np.flatnonzero(m[1:] != m[:-1]) + 1
    starts = np.concatenate([[0], cut]).astype(np.int64) if m.size else np.zeros(0, np.int64)
    stops = np.concatenate([cut, [m.size]]).astype(np.int64) if m.size else np.zeros(0, np.int64)
    return starts, stops


def _steps(p: _Problem) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The walk's steps: ``pair`` and ``person`` (-1: all of the group's persons without a
    place, in key order; else the person's position in its group).

    A pair alone at its minutes is one step. Pairs at equal minutes are taken person
    by person, in (person key, facility key) order.
    """
    starts, stops = _ties(p.m)
    alone = stops - starts == 1
    cls = [starts[alone]]
    within = [np.zeros(int(alone.sum()), dtype=np.int64)]
    pair = [starts[alone]]
    person = [np.full(int(alone.sum()), -1, dtype=np.int64)]
    for a, b in zip(starts[~alone].tolist(), stops[~alone].tolist(), strict=True):
        rows = []
        for k in range(a, b):
            g = int(p.g[k])
            who = p.members[p.ptr[g] : p.ptr[g + 1]]
            for r, rank in enumerate(p.person_rank[who].tolist()):
                rows.append((rank, int(p.fac_rank[p.f[k]]), k, r))
        rows.sort()
        cls.append(np.full(len(rows), a, dtype=np.int64))
        within.append(np.arange(len(rows), dtype=np.int64))
        pair.append(np.array([r[2] for r in rows], dtype=np.int64))
        person.append(np.array([r[3] for r in rows], dtype=np.int64))
    order = np.lexsort((np.concatenate(within), np.concatenate(cls)))
    return np.concatenate(pair)[order], np.concatenate(person)[order]


class _Walk:
    """The walk down the steps, in rounds (see the module notes)."""

    def __init__(self, p: _Problem) -> None:
        self.p = p
        self.flows = _Flows(p)
        self.cut = self.flows.cut()
        self.usable = ~self.cut.dead  # pairs not refused
        self.given = np.zeros(p.g.shape[0], dtype=np.int64)  # P per pair
        self.pg, self.pf = p.g.tolist(), p.f.tolist()
        self.d, self.cap = p.d.tolist(), p.cap.tolist()
        self.placed = [0] * p.d.shape[0]  # P per group
        self.taken = [0] * p.cap.shape[0]  # P per facility
        self.step_pair, self.step_person = (a.tolist() for a in _steps(p))
        self.log: list[tuple[int, int]] = []  # (pair, persons given), in order
        self.skipped = 0

    def run(self) -> None:
        """Give the places, step by step; fills ``log`` and ``skipped``."""
        i, n = 0, len(self.step_pair)
        while i < n:
            plan = self._greedy(i, n, list(self.placed), list(self.taken))[0]
            kept = self._kept(plan)
            stop = plan[kept][0] if kept < len(plan) else n
            gives, skipped = self._greedy(i, stop, self.placed, self.taken)
            self.skipped += skipped
            for _, k, units in gives:
                self.given[k] += units
                self.log.append((k, units))
            if kept == len(plan):
                return
            self._refuse(stop)
            i = stop + 1

    def _want(self, step: int, placed: list[int], taken: list[int]) -> tuple[int, int, int]:
        """Pair, persons without a place and places the step may give (clauses 1 and 2)."""
        k, r = self.step_pair[step], self.step_person[step]
        g, f = self.pg[k], self.pf[k]
        persons = self.d[g] - placed[g] if r < 0 else int(r >= placed[g])
        return k, persons, int(max(0, min(persons, self.cap[f] - taken[f])))

    def _greedy(
        self, i: int, stop: int, placed: list[int], taken: list[int]
    ) -> tuple[list[tuple[int, int, int]], int]:
        """Steps ``i..stop-1`` by clauses 1 and 2 alone (refused pairs excepted), updating
        ``placed`` and ``taken``: ``(step, pair, persons)`` given, and persons skipped
        at refused pairs."""
        gives: list[tuple[int, int, int]] = []
        skipped = 0
        usable = self.usable
        for step in range(i, stop):
            k, persons, want = self._want(step, placed, taken)
            if want <= 0:
                continue
            if not usable[k]:
                skipped += persons
                continue
            gives.append((step, k, want))
            placed[self.pg[k]] += want
            taken[self.pf[k]] += want
        return gives, skipped

    def _keeps(self, more: NDArray[np.int64]) -> bool:
        """Clause 3 for ``P + more``: the maximum can still be reached."""
        given = self.given + more
        extra, _ = self.flows.more(given, self.usable)
        return int(given.sum()) + extra == self.cut.total

    def _kept(self, plan: list[tuple[int, int, int]]) -> int:
        """How many of the greedy's gifts, from the first, keep the maximum: all of them,
        or found by doubling then halving the count (one maximum flow each)."""
        n_p = self.given.shape[0]
        pairs = np.array([k for _, k, _ in plan], dtype=np.int64)
        units = np.array([u for _, _, u in plan], dtype=np.int64)

        def keeps(e: int) -> bool:
            return self._keeps(
                np.bincount(pairs[:e], weights=units[:e], minlength=n_p).astype(np.int64)
            )

        if not plan or keeps(len(plan)):
            return len(plan)
        lo, hi, probe = 0, len(plan), 1
        while lo + probe < hi:
            if not keeps(lo + probe):
                hi = lo + probe
                break
            lo, probe = lo + probe, probe * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if keeps(mid) else (lo, mid)
        return lo

    def _refuse(self, step: int) -> None:
        """The step where clause 3 first fails: as many places as keep the maximum, then
        the pair is refused, with every pair its proof covers."""
        k, persons, want = self._want(step, self.placed, self.taken)
        one = np.zeros(self.given.shape[0], dtype=np.int64)
        one[k] = 1
        lo, hi = 0, want  # lo keeps the maximum, hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self._keeps(mid * one) else (lo, mid)
        if lo:
            self.given[k] += lo
            self.placed[self.pg[k]] += lo
            self.taken[self.pf[k]] += lo
            self.log.append((k, lo))
        self.skipped += persons - lo
        self.usable = self.usable & ~self.flows.refused_with(k, self.given, self.usable, self.cut)
        self.usable[k] = False
