"""Chinese coordinate systems: WGS-84, GCJ-02 (Amap/Tencent) and BD-09 (Baidu).

OpenStreetMap, GPS and Tianditu (CGCS2000, within a metre of WGS-84) use WGS-84;
points copied from Amap or Tencent are GCJ-02, offset by hundreds of metres;
points from Baidu are BD-09. The store keeps WGS-84 only, and every import path
converts through :func:`to_wgs84`.

The GCJ-02 forward transform is the published obfuscation polynomial; its inverse
has no closed form and is solved by fixed-point iteration to below 1e-9 degrees
(about 0.1 mm). All functions are vectorised over NumPy arrays.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import CRSError

CRSName: TypeAlias = Literal["wgs84", "gcj02", "bd09"]
CRS_NAMES: tuple[CRSName, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres, as used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-9
_INVERSE_MAX_ITER = 30

Coords: TypeAlias = tuple[NDArray[np.float64], NDArray[np.float64]]


def _in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    # GCJ-02 leaves points outside this box unshifted.
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat += common
    d_lon += common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise CRSError(f"经度与纬度个数不一致（{x.shape} 与 {y.shape}）。")
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS-84 lon/lat (degrees) to GCJ-02."""
    x, y = _arrays(lon, lat)
    dx, dy = _delta(x, y)
    return x + dx, y + dy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 lon/lat (degrees) to WGS-84 by fixed-point iteration."""
    gx, gy = _arrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = fx - gx, fy - gy
        wx, wy = wx - ex, wy - ey
        if np.all(np.abs(ex) < _INVERSE_TOL_DEG) and np.all(np.abs(ey) < _INVERSE_TOL_DEG):
            break
    return wx, wy


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 lon/lat (degrees) to BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert BD-09 lon/lat (degrees) to GCJ-02.

    The published closed-form inverse is off by up to ~0.1 m; it is used as the
    start of a fixed-point iteration on :func:`gcj02_to_bd09`.
    """
    bx, by = _arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = fx - bx, fy - by
        gx, gy = gx - ex, gy - ey
        if np.all(np.abs(ex) < _INVERSE_TOL_DEG) and np.all(np.abs(ey) < _INVERSE_TOL_DEG):
            break
    return gx, gy


def parse_crs(name: str) -> CRSName:
    """Normalise a coordinate-system name given by a user.

    Accepts ``wgs84``/``WGS-84``/``4326``/``cgcs2000``, ``gcj02``/``高德``/``amap``,
    ``bd09``/``百度``/``baidu``.
    """
    key = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    table: dict[str, CRSName] = {
        "wgs84": "wgs84",
        "4326": "wgs84",
        "epsg4326": "wgs84",
        "gps": "wgs84",
        "cgcs2000": "wgs84",
        "4490": "wgs84",
        "天地图": "wgs84",
        "gcj02": "gcj02",
        "gcj": "gcj02",
        "amap": "gcj02",
        "高德": "gcj02",
        "tencent": "gcj02",
        "腾讯": "gcj02",
        "火星": "gcj02",
        "bd09": "bd09",
        "bd09ll": "bd09",
        "baidu": "bd09",
        "百度": "bd09",
    }
    if key not in table:
        raise CRSError(
            f"不认识的坐标系「{name}」；"
            "可用 wgs84（GPS/天地图/OSM）、gcj02（高德/腾讯）、bd09（百度）。"
        )
    return table[key]


def to_wgs84(lon: ArrayLike, lat: ArrayLike, *, crs: str) -> Coords:
    """Convert lon/lat in ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS-84."""
    name = parse_crs(crs)
    if name == "wgs84":
        return _arrays(lon, lat)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def from_wgs84(lon: ArrayLike, lat: ArrayLike, *, crs: str) -> Coords:
    """Convert WGS-84 lon/lat to ``crs`` (``wgs84``, ``gcj02`` or ``bd09``)."""
    name = parse_crs(crs)
    if name == "wgs84":
        return _arrays(lon, lat)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def geometry_to_wgs84(geom: Any, *, crs: str) -> Any:
    """A shapely geometry with every vertex converted from ``crs`` to WGS-84.

    Parameters
    ----------
    geom
        Any shapely geometry (points, lines, polygons, collections) in lon/lat.
    crs
        ``wgs84`` (returned unchanged), ``gcj02`` or ``bd09``.
    """
    name = parse_crs(crs)
    if name == "wgs84":
        return geom
    import shapely

    return shapely.transform(
        geom, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs=name))
    )
