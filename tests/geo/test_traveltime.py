"""Tests for geo.traveltime: hand-checked toy networks, then networkx as an independent oracle."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.isochrones as iso
import geo.traveltime as tt
from geo._csgraph import travel_graph
from geo.graph import NetworkError, RoadNetwork, haversine_m
from geo.traveltime import (
    isochrones,
    nearest,
    od_matrix,
    point_to_point,
    route,
    service_area,
)

INF = np.inf
LON0, LAT0 = 121.40, 29.65  # 奉化
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))

# ------------------------------------------------------------------ toy networks

A, B, C, D = 0, 1, 2, 3


def _net(
    edges: list[tuple[int, int, float, float]], xy_m: list[tuple[float, float]]
) -> RoadNetwork:
    """Edges ``(u, v, seconds, metres)``; node positions in metres east/north of 奉化."""
    u, v, s, m = (np.array(x) for x in zip(*edges, strict=True))
    x, y = np.array(xy_m, dtype=float).T
    return RoadNetwork.from_edges(
        mode="drive",
        lon=LON0 + x / M_PER_DEG_LON,
        lat=LAT0 + y / M_PER_DEG_LAT,
        u=u,
        v=v,
        seconds=s,
        metres=m,
    )


SQUARE = [(0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0), (0.0, 1000.0)]


@pytest.fixture
def one_way() -> RoadNetwork:
    """A→B is a one-way street (60 s); back from B to A goes round by C (100 + 200 s).

    D can drive to A (50 s) but nothing leads to D. The nodes are the corners of
    a 1 km square: A south-west, B south-east, C north-east, D north-west.
    """
    return _net(
        [(A, B, 60.0, 400.0), (B, C, 100.0, 900.0), (C, A, 200.0, 1500.0), (D, A, 50.0, 300.0)],
        SQUARE,
    )


# travel seconds from row to column, by hand
ONE_WAY = np.array(
    [
        [0.0, 60.0, 160.0, INF],
        [300.0, 0.0, 100.0, INF],
        [200.0, 260.0, 0.0, INF],
        [50.0, 110.0, 210.0, 0.0],
    ]
)


def test_one_way_street_od(one_way: RoadNetwork) -> None:
    od = od_matrix(one_way, [A, B, C, D], [A, B, C, D])
    assert od.shape == (4, 4)
    np.testing.assert_array_equal(od.to_dense(), ONE_WAY)
    assert od.rows.dtype == np.int64 and od.cols.dtype == np.int64
    assert od.nnz == np.isfinite(ONE_WAY).sum()  # unreachable pairs are not stored
    np.testing.assert_array_equal(od.to_dense(fill=-1.0)[:3, D], [-1.0, -1.0, -1.0])


def test_same_node_is_kept_as_zero(one_way: RoadNetwork) -> None:
    od = od_matrix(one_way, [B], [B, C])
    np.testing.assert_array_equal(od.rows, [0, 0])
    assert sorted(zip(od.cols.tolist(), od.seconds.tolist(), strict=True)) == [(0, 0.0), (1, 100.0)]


def test_od_in_both_directions_of_the_search(one_way: RoadNetwork) -> None:
    # more origins than destinations: searched from the destinations on the transposed graph
    many_to_one = od_matrix(one_way, [A, B, C, D, D], [A])
    np.testing.assert_array_equal(many_to_one.to_dense()[:, 0], [0.0, 300.0, 200.0, 50.0, 50.0])
    one_to_many = od_matrix(one_way, [A], [A, B, C, D, D])
    np.testing.assert_array_equal(one_to_many.to_dense()[0], [0.0, 60.0, 160.0, INF, INF])


def test_duplicate_nodes_get_their_own_rows_and_columns(one_way: RoadNetwork) -> None:
    origins, destinations = [B, A, B, B], [C, A, C]
    od = od_matrix(one_way, origins, destinations)
    np.testing.assert_array_equal(od.to_dense(), ONE_WAY[np.ix_(origins, destinations)])
    od = od_matrix(one_way, destinations, origins)  # the other search direction
    np.testing.assert_array_equal(od.to_dense(), ONE_WAY[np.ix_(destinations, origins)])


def test_limit_keeps_exactly_the_boundary(one_way: RoadNetwork) -> None:
    at = od_matrix(one_way, [A], [B, C], limit_s=160.0)
    assert sorted(at.seconds.tolist()) == [60.0, 160.0]
    below = od_matrix(one_way, [A], [B, C], limit_s=159.999)
    assert below.seconds.tolist() == [60.0]
    zero = od_matrix(one_way, [A, B], [A, B], limit_s=0.0)
    np.testing.assert_array_equal(zero.to_dense(), [[0.0, INF], [INF, 0.0]])


def test_minutes_and_empty_inputs(one_way: RoadNetwork) -> None:
    od = od_matrix(one_way, [A], [C])
    np.testing.assert_array_equal(od.minutes(), [160.0 / 60.0])
    empty = od_matrix(one_way, [], [A, B])
    assert empty.shape == (0, 2) and empty.nnz == 0
    assert empty.to_dense().shape == (0, 2)


def test_bad_nodes_and_limits_are_refused(one_way: RoadNetwork) -> None:
    with pytest.raises(NetworkError, match="不存在的节点"):
        od_matrix(one_way, [A], [7])
    with pytest.raises(NetworkError, match="不存在的节点"):
        nearest(one_way, [-1])
    with pytest.raises(NetworkError, match="整数"):
        od_matrix(one_way, [0.5], [A])
    with pytest.raises(NetworkError, match="非负"):
        od_matrix(one_way, [A], [B], limit_s=-1.0)


def test_nearest_on_the_one_way_street(one_way: RoadNetwork) -> None:
    near = nearest(one_way, [B, C])
    # A: to B 60 s; B, C: themselves; D: to B via A 110 s
    np.testing.assert_array_equal(near.seconds, [60.0, 0.0, 0.0, 110.0])
    np.testing.assert_array_equal(near.facility, [0, 0, 1, 0])
    assert near.facility.dtype == np.int64


def test_nearest_unreachable_and_limit(one_way: RoadNetwork) -> None:
    near = nearest(one_way, [D])
    np.testing.assert_array_equal(near.seconds, [INF, INF, INF, 0.0])
    np.testing.assert_array_equal(near.facility, [-1, -1, -1, 0])
    cut = nearest(one_way, [A], limit_s=200.0)  # C→A is exactly 200 s, B→A 300 s
    np.testing.assert_array_equal(cut.seconds, [0.0, INF, 200.0, 50.0])
    np.testing.assert_array_equal(cut.facility, [0, -1, 0, 0])
    none = nearest(one_way, [])
    assert np.all(np.isinf(none.seconds)) and np.all(none.facility == -1)


def test_nearest_repeated_facility_node_reports_its_first_position(one_way: RoadNetwork) -> None:
    near = nearest(one_way, [C, A, C])
    np.testing.assert_array_equal(near.facility, [1, 0, 0, 1])


def test_route_takes_the_fast_detour_not_the_slow_edge() -> None:
    P, Q, R = 0, 1, 2
    net = _net([(P, Q, 600.0, 1000.0), (P, R, 100.0, 2000.0), (R, Q, 100.0, 2000.0)], SQUARE[:3])
    path = route(net, P, Q)
    assert path.seconds == 200.0
    assert path.metres == 4000.0
    np.testing.assert_array_equal(path.nodes, [P, R, Q])
    np.testing.assert_array_equal(path.lon, net.lon[[P, R, Q]])
    np.testing.assert_array_equal(path.lat, net.lat[[P, R, Q]])
    with pytest.raises(NetworkError, match="无法经道路网络到达"):
        route(net, Q, P)


def test_route_one_way_street(one_way: RoadNetwork) -> None:
    there, back = route(one_way, A, B), route(one_way, B, A)
    assert (there.seconds, there.metres) == (60.0, 400.0)
    assert (back.seconds, back.metres) == (300.0, 2400.0)
    np.testing.assert_array_equal(back.nodes, [B, C, A])
    same = route(one_way, C, C)
    assert (same.seconds, same.metres) == (0.0, 0.0)
    np.testing.assert_array_equal(same.nodes, [C])


def test_parallel_edges_use_the_fastest() -> None:
    net = _net([(0, 1, 100.0, 500.0), (0, 1, 40.0, 900.0), (1, 0, 70.0, 600.0)], SQUARE[:2])
    path = route(net, 0, 1)
    assert (path.seconds, path.metres) == (40.0, 900.0)
    np.testing.assert_array_equal(od_matrix(net, [0, 1], [0, 1]).to_dense(), [[0, 40], [70, 0]])


def test_point_to_point_reports_snap_legs_separately(one_way: RoadNetwork) -> None:
    # 30 m north of A, 20 m south of C
    a = (float(one_way.lon[A]), float(one_way.lat[A]) + 30.0 / M_PER_DEG_LAT)
    c = (float(one_way.lon[C]), float(one_way.lat[C]) - 20.0 / M_PER_DEG_LAT)
    trip = point_to_point(one_way, a, c)
    assert (trip.route.seconds, trip.route.metres) == (160.0, 1300.0)
    np.testing.assert_array_equal(trip.route.nodes, [A, B, C])
    assert trip.from_snap_m == pytest.approx(30.0, rel=0.01)
    assert trip.to_snap_m == pytest.approx(20.0, rel=0.01)
    with pytest.raises(NetworkError, match="无法经道路网络到达"):
        point_to_point(one_way, a, (float(one_way.lon[D]), float(one_way.lat[D])))
    with pytest.raises(NetworkError, match="坐标无效"):
        point_to_point(one_way, (np.nan, LAT0), c)


# ------------------------------------------------------------------ networkx as the oracle


def _random_graph(seed: int, n: int = 200, m: int = 600) -> tuple[RoadNetwork, nx.DiGraph]:
    """A random directed graph (with repeats and self-loops in the input) and its networkx twin."""
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    secs = rng.uniform(1.0, 100.0, m)
    metres = rng.uniform(10.0, 2000.0, m)
    lon = LON0 + rng.uniform(0, 0.1, n)
    lat = LAT0 + rng.uniform(0, 0.1, n)
    net = RoadNetwork.from_edges(
        mode="drive", lon=lon, lat=lat, u=u, v=v, seconds=secs, metres=metres
    )
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, s, d in zip(u.tolist(), v.tolist(), secs.tolist(), metres.tolist(), strict=True):
        if a != b and (not g.has_edge(a, b) or s < g[a][b]["weight"]):
            g.add_edge(a, b, weight=s, metres=d)
    return net, g


def _nx_dense(g: nx.DiGraph, origins: Any, destinations: Any, limit: float | None) -> Any:
    out = np.full((len(origins), len(destinations)), INF)
    for i, o in enumerate(origins):
        lengths = nx.single_source_dijkstra_path_length(g, int(o), cutoff=limit)
        for j, d in enumerate(destinations):
            out[i, j] = lengths.get(int(d), INF)
    return out


class _Spy:
    """Wraps ``dijkstra`` in geo.traveltime to record which graph it searched and how often."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.graphs: list[Any] = []

    def __call__(self, graph: Any, **kw: Any) -> Any:
        self.graphs.append(graph)
        return self.real(graph, **kw)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> _Spy:
    s = _Spy(tt.dijkstra)
    monkeypatch.setattr(tt, "dijkstra", s)
    return s


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("limit", [None, 120.0])
def test_od_matrix_equals_networkx(seed: int, limit: float | None, spy: _Spy) -> None:
    net, g = _random_graph(seed)
    rng = np.random.default_rng(100 + seed)
    few = rng.integers(0, net.n_nodes, 7)
    many = np.concatenate([rng.integers(0, net.n_nodes, 60), few[:2]])  # with repeats
    reverse = travel_graph(net, reverse=True)
    for origins, destinations, backwards in ((few, many, False), (many, few, True)):
        for budget in (tt.DEFAULT_MEMORY_BYTES, 1):  # 1 byte: one source per chunk
            spy.graphs.clear()
            od = od_matrix(net, origins, destinations, limit_s=limit, memory_bytes=budget)
            expected = _nx_dense(g, origins, destinations, limit)
            np.testing.assert_allclose(od.to_dense(), expected, rtol=1e-12)
            assert np.all(od.seconds <= (limit or INF))
            assert all((gr is reverse) == backwards for gr in spy.graphs)
            distinct = np.unique(destinations if backwards else origins).size
            assert len(spy.graphs) == (1 if budget > 1 else distinct)


def test_od_matrix_to_every_node_equals_networkx() -> None:
    net, g = _random_graph(3)
    every = np.arange(net.n_nodes)
    od = od_matrix(net, [5, 17], every, limit_s=150.0, memory_bytes=1)
    np.testing.assert_allclose(od.to_dense(), _nx_dense(g, [5, 17], every, 150.0), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("limit", [None, 90.0])
def test_nearest_equals_brute_force(seed: int, limit: float | None) -> None:
    net, g = _random_graph(seed)
    facilities = np.random.default_rng(seed).integers(0, net.n_nodes, 8)
    to_each = np.full((len(facilities), net.n_nodes), INF)  # seconds from node to facility
    rev = g.reverse(copy=True)
    for k, f in enumerate(facilities):
        for node, s in nx.single_source_dijkstra_path_length(rev, int(f), cutoff=limit).items():
            to_each[k, node] = s
    best = to_each.min(axis=0)
    near = nearest(net, facilities, limit_s=limit)
    np.testing.assert_allclose(near.seconds, best, rtol=1e-12)
    found = np.isfinite(best)
    np.testing.assert_array_equal(near.facility[~found], -1)
    chosen = to_each[near.facility[found], np.flatnonzero(found)]
    np.testing.assert_allclose(chosen, best[found], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_route_equals_networkx(seed: int) -> None:
    net, g = _random_graph(seed)
    rng = np.random.default_rng(seed)
    checked = 0
    for o, d in rng.integers(0, net.n_nodes, (40, 2)).tolist():
        try:
            length, path = nx.single_source_dijkstra(g, o, d)
        except nx.NetworkXNoPath:
            with pytest.raises(NetworkError):
                route(net, o, d)
            continue
        got = route(net, o, d)
        assert got.seconds == pytest.approx(length, rel=1e-12)
        # continuous random weights: the fastest path is unique (almost surely)
        assert got.nodes.tolist() == path
        metres = sum(g[a][b]["metres"] for a, b in itertools.pairwise(path))
        assert got.metres == pytest.approx(metres, rel=1e-12)
        checked += 1
    assert checked >= 10


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 9),
    data=st.data(),
    limit=st.one_of(st.none(), st.floats(0.0, 30.0)),
)
def test_od_matrix_equals_networkx_on_generated_graphs(
    n: int, data: st.DataObject, limit: float | None
) -> None:
    node = st.integers(0, n - 1)
    edges = data.draw(
        st.lists(st.tuples(node, node, st.integers(1, 10).map(float)), max_size=3 * n)
    )
    origins = data.draw(st.lists(node, min_size=1, max_size=6))
    destinations = data.draw(st.lists(node, min_size=1, max_size=6))
    u = [e[0] for e in edges]
    v = [e[1] for e in edges]
    s = [e[2] for e in edges]
    net = RoadNetwork.from_edges(
        mode="walk", lon=np.zeros(n), lat=np.zeros(n), u=u, v=v, seconds=s, metres=s
    )
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, w in edges:
        if a != b and (not g.has_edge(a, b) or w < g[a][b]["weight"]):
            g.add_edge(a, b, weight=w)
    od = od_matrix(net, origins, destinations, limit_s=limit, memory_bytes=1)
    np.testing.assert_array_equal(od.to_dense(), _nx_dense(g, origins, destinations, limit))


# ------------------------------------------------------------------ isochrones


def _grid(side: int, spacing_m: float, seed: int) -> tuple[RoadNetwork, nx.DiGraph]:
    """A square street grid, two-way, with a random time per direction."""
    rng = np.random.default_rng(seed)
    idx = np.arange(side * side).reshape(side, side)
    h = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    vert = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    u = np.concatenate([h[0], h[1], vert[0], vert[1]])
    v = np.concatenate([h[1], h[0], vert[1], vert[0]])
    secs = rng.uniform(30.0, 90.0, u.size)
    row, col = np.divmod(np.arange(side * side), side)
    lon = LON0 + col * spacing_m / M_PER_DEG_LON
    lat = LAT0 + row * spacing_m / M_PER_DEG_LAT
    net = RoadNetwork.from_edges(
        mode="walk", lon=lon, lat=lat, u=u, v=v, seconds=secs, metres=np.full(u.size, spacing_m)
    )
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), secs.tolist(), strict=True))
    return net, g


def _inside(geom: Any, net: RoadNetwork, nodes: Any) -> Any:
    return shapely.contains_xy(geom, net.lon[nodes], net.lat[nodes])


def test_isochrones_contain_reached_nodes_and_exclude_far_ones() -> None:
    net, g = _grid(12, 500.0, seed=4)
    sources = [40, 100, 40]
    thresholds = [3.0, 6.0]
    iso = isochrones(net, sources, minutes=thresholds, buffer_m=150.0)
    assert iso.crs is not None and iso.crs.to_epsg() == 4326
    assert list(iso.columns) == ["source", "minutes", "geometry"]
    assert iso["source"].tolist() == [0, 0, 1, 1, 2, 2]
    assert iso["minutes"].tolist() == thresholds * 3
    assert iso.geometry.is_valid.all() and not iso.geometry.is_empty.any()
    rev = g.reverse(copy=True)
    for row in iso.itertuples():
        to_source = nx.single_source_dijkstra_path_length(rev, sources[row.source])
        secs = np.full(net.n_nodes, INF)
        secs[list(to_source)] = list(to_source.values())
        reached = secs <= row.minutes * 60.0
        assert _inside(row.geometry, net, np.flatnonzero(reached)).all()
        # on a 500 m grid, a node that is not reached lies ≥ 500 m from every reached street
        assert not _inside(row.geometry, net, np.flatnonzero(~reached)).any()
        assert 1 < reached.sum() < net.n_nodes
    # a repeated source gets the same areas
    assert iso.geometry.iloc[0].equals(iso.geometry.iloc[4])


def test_isochrones_are_nested() -> None:
    net, _ = _grid(15, 200.0, seed=5)
    iso = isochrones(net, [112], minutes=[8.0, 2.0, 4.0, 4.0], buffer_m=150.0)
    by_min = dict(zip(iso["minutes"], iso.geometry, strict=False))
    small, mid, big = by_min[2.0], by_min[4.0], by_min[8.0]
    for inner, outer in ((small, mid), (mid, big)):
        assert outer.contains(inner) and outer.area > inner.area
    assert iso.geometry.iloc[2].equals(iso.geometry.iloc[3])


def test_isochrone_of_an_isolated_source_is_its_buffered_point(one_way: RoadNetwork) -> None:
    # nothing leads to D: only D itself reaches it
    iso = isochrones(one_way, [D], minutes=[10.0], buffer_m=100.0)
    geom = iso.geometry.iloc[0]
    assert _inside(geom, one_way, [D]).all() and not _inside(geom, one_way, [A, B, C]).any()
    radius_m = np.sqrt(geom.area * M_PER_DEG_LAT * M_PER_DEG_LON / np.pi)
    assert radius_m == pytest.approx(100.0, rel=0.03)


def test_isochrone_follows_one_way_direction(one_way: RoadNetwork) -> None:
    # to B within 2 minutes: A (60 s) and D (110 s) but not C (260 s)
    geom = isochrones(one_way, [B], minutes=[2.0], buffer_m=100.0).geometry.iloc[0]
    inside = _inside(geom, one_way, [A, B, C, D])
    np.testing.assert_array_equal(inside, [True, True, False, True])
    # to C within 2 minutes: B (100 s), but not A (160 s) although C→A→B→C would be
    staff = isochrones(one_way, [C], minutes=[2.0], buffer_m=100.0).geometry.iloc[0]
    np.testing.assert_array_equal(_inside(staff, one_way, [A, B, C, D]), [False, True, True, False])


def test_service_area_is_the_union_of_isochrones() -> None:
    net, _ = _grid(12, 400.0, seed=6)
    sources = [13, 130, 70]
    minutes = [3.0, 5.0]
    iso = isochrones(net, sources, minutes=minutes, buffer_m=150.0)
    area = service_area(net, sources, minutes=minutes, buffer_m=150.0)
    assert list(area.columns) == ["minutes", "geometry"]
    assert area["minutes"].tolist() == minutes and area.crs.to_epsg() == 4326
    for m, geom in zip(minutes, area.geometry, strict=True):
        union = shapely.union_all(iso.geometry[iso["minutes"] == m].to_numpy())
        assert geom.symmetric_difference(union).area <= 1e-9 * union.area
    assert area.geometry.iloc[1].contains(area.geometry.iloc[0])
    none = service_area(net, [], minutes=[5.0])
    assert len(none) == 1 and none.geometry.iloc[0].is_empty


def test_isochrone_options_are_checked(one_way: RoadNetwork) -> None:
    with pytest.raises(NetworkError, match="阈值"):
        isochrones(one_way, [A], minutes=[])
    with pytest.raises(NetworkError, match="阈值"):
        service_area(one_way, [A], minutes=[-5.0])
    with pytest.raises(NetworkError, match="缓冲"):
        isochrones(one_way, [A], minutes=[5.0], buffer_m=0.0)


def test_snap_distances_agree_with_haversine(one_way: RoadNetwork) -> None:
    p = (LON0 + 0.0003, LAT0 + 0.0002)
    q = (float(one_way.lon[C]) - 0.0004, float(one_way.lat[C]) + 0.0001)
    trip = point_to_point(one_way, p, q)
    first, last = int(trip.route.nodes[0]), int(trip.route.nodes[-1])
    assert trip.from_snap_m == pytest.approx(
        float(haversine_m(p[0], p[1], one_way.lon[first], one_way.lat[first]))
    )
    assert trip.to_snap_m == pytest.approx(
        float(haversine_m(q[0], q[1], one_way.lon[last], one_way.lat[last]))
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_block_filling_matches_the_plain_union_of_buffers(seed: int) -> None:
    # crossing segments without a shared node (bridges), dangling ends, and a fine grid
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0.0, 3000.0, (120, 2))
    a, b = rng.integers(0, 120, 300), rng.integers(0, 120, 300)
    near = (np.hypot(*(pts[a] - pts[b]).T) < 900.0) & (a != b)
    ticks = np.arange(0.0, 1000.0, 50.0)
    grid = [[[x, y], [x + 50.0, y]] for x in ticks for y in ticks[::2]]
    grid += [[[y, x], [y, x + 50.0]] for x in ticks for y in ticks[::2]]
    lines = np.concatenate(
        [
            shapely.linestrings(np.stack([pts[a[near]], pts[b[near]]], axis=1)),
            shapely.linestrings(np.array(grid) + 3500.0),
        ]
    )
    for radius in (40.0, 150.0):
        plain = shapely.union_all(shapely.buffer(lines, radius, quad_segs=iso._QUAD_SEGS))
        fast = iso._buffered(lines, radius)
        assert fast.is_valid
        assert plain.symmetric_difference(fast).area <= 1e-3 * plain.area
        # only the polygonal approximation of round ends differs (a few metres at 150 m)
        assert shapely.hausdorff_distance(plain, fast) <= 0.05 * radius
