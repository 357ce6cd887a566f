"""The small route map of a team-day, as inline SVG (no tiles, no network: prints offline).

:func:`route_svg` draws the village outlines, the route (start, morning stops,
lunch at the service point, afternoon stops, end), numbered stops and a scale
bar, in an equirectangular projection around the stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.reports.route_day import SheetDay as _Day
from planner.reports.route_day import esc as _e
from planner.reports.route_day import num as _num
from planner.reports.route_day import point as _point

__all__ = ["MAP_MM", "route_svg"]

# The route map (inline SVG): drawing units, printed size, margins.
_MAP_W, _MAP_H = 1000, 620  # viewBox units
MAP_MM = (92, 57)  # printed width × height, mm
_MAP_PAD = 40  # viewBox units kept free around the drawing
_SCALE_STEPS_KM = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
_SCALE_SHARE = 0.25  # the scale bar is at most this share of the map's width
_FAN_STEP = 30  # viewBox units between stops drawn around a shared spot
_FAN_ANGLE = math.pi * (3 - math.sqrt(5))  # golden angle: the fan never repeats
_KM_PER_DEG_LAT = 111.32  # kilometres per degree of latitude (map scale only)


@dataclass(frozen=True)
class _Frame:
    """Projection of WGS-84 points into the map's viewBox (equirectangular)."""

    lon0: float
    lat0: float
    scale: float  # viewBox units per km
    kx: float  # km per degree of longitude here
    cx: float
    cy: float

    @classmethod
    def around(cls, points: Sequence[tuple[float, float]]) -> _Frame:
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        lon0, lat0 = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
        kx = _KM_PER_DEG_LAT * math.cos(math.radians(lat0))
        w_km = max((max(lons) - min(lons)) * kx, 1e-3)
        h_km = max((max(lats) - min(lats)) * _KM_PER_DEG_LAT, 1e-3)
        scale = min((_MAP_W - 2 * _MAP_PAD) / w_km, (_MAP_H - 2 * _MAP_PAD) / h_km)
        return cls(lon0, lat0, scale, kx, _MAP_W / 2, _MAP_H / 2)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.cx + (lon - self.lon0) * self.kx * self.scale,
            self.cy - (lat - self.lat0) * _KM_PER_DEG_LAT * self.scale,
        )

    def inside(self, x: float, y: float) -> bool:
        return 0 <= x <= _MAP_W and 0 <= y <= _MAP_H


def _to_edge(f: _Frame, x: float, y: float) -> tuple[float, float]:
    """Where the line from the centre towards (x, y) leaves the drawing area."""
    dx, dy = x - f.cx, y - f.cy
    tx = (f.cx - _MAP_PAD / 2) / abs(dx) if dx else math.inf
    ty = (f.cy - _MAP_PAD / 2) / abs(dy) if dy else math.inf
    t = min(tx, ty, 1.0)
    return f.cx + dx * t, f.cy + dy * t


def _scale_bar(f: _Frame) -> str:
    km = max(
        (k for k in _SCALE_STEPS_KM if k * f.scale <= _MAP_W * _SCALE_SHARE),
        default=_SCALE_STEPS_KM[0],
    )
    w = km * f.scale
    x0, y0 = _MAP_PAD / 2, _MAP_H - _MAP_PAD / 2
    label = f"{_num(km * 1000, 0)} 米" if km < 1 else f"{_num(km)} 公里"
    return (
        f'<path d="M{x0:.1f} {y0 - 8:.1f}V{y0:.1f}H{x0 + w:.1f}V{y0 - 8:.1f}" '
        'fill="none" stroke="#000" stroke-width="3"/>'
        f'<text x="{x0 + w + 8:.1f}" y="{y0:.1f}" font-size="24">{_e(label)}</text>'
        f'<text x="{_MAP_W - _MAP_PAD / 2:.1f}" y="{_MAP_PAD:.1f}" font-size="26" '
        'text-anchor="end">北 ↑</text>'
    )


def route_svg(d: _Day) -> str:
    """The team-day's route on its villages' outlines, as inline SVG (no tiles, offline).

    Stops are numbered circles, the service point (lunch) a square 午, the start
    and end a triangle; a start far outside the villages is drawn at the map's
    edge with its name and the way it lies.
    """
    day = d.day
    sp = _point(d.sp)
    path = [
        _point(day.start),
        *(_point(s) for s in d.morning),
        sp,
        *(_point(s) for s in d.afternoon),
        _point(day.end),
    ]
    inner = [_point(s) for s in d.stops] + [sp]
    inner += [pt for ring in d.focus for pt in ring]
    f = _Frame.around(inner)
    parts = [
        f'<svg viewBox="0 0 {_MAP_W} {_MAP_H}" '
        f'width="{MAP_MM[0]}mm" height="{MAP_MM[1]}mm" role="img" '
        f'aria-label="{_e(d.title)} 路线图" font-family="sans-serif">',
        f'<rect width="{_MAP_W}" height="{_MAP_H}" fill="#fff"/>',
    ]
    for ring in d.outlines:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (f.xy(*pt) for pt in ring))
        parts.append(f'<polygon points="{pts}" fill="#f2f2f2" stroke="#777" stroke-width="2"/>')
    xy = [f.xy(*pt) for pt in path]
    ends = []
    for k in (0, len(xy) - 1):
        if not f.inside(*xy[k]):
            xy[k] = _to_edge(f, *xy[k])
            ends.append(k)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="#000" stroke-width="3" '
        'stroke-linejoin="round"/>'
    )
    x, y = xy[0]
    parts.append(
        f'<path d="M{x:.1f} {y - 16:.1f}L{x + 14:.1f} {y + 10:.1f}L{x - 14:.1f} {y + 10:.1f}Z" '
        'fill="#000"/>'
    )
    if ends:
        name = day.start.name if 0 in ends else day.end.name
        anchor = "start" if x < f.cx else "end"
        ty = y + 36 if y < f.cy else y - 22
        parts.append(
            f'<text x="{x:.1f}" y="{ty:.1f}" font-size="22" text-anchor="{anchor}">'
            f"往{_e(name)}</text>"
        )
    sx, sy = f.xy(*sp)
    parts.append(
        f'<rect x="{sx - 16:.1f}" y="{sy - 16:.1f}" width="32" height="32" fill="#fff" '
        'stroke="#000" stroke-width="3"/>'
        f'<text x="{sx:.1f}" y="{sy + 8:.1f}" font-size="22" text-anchor="middle">午</text>'
    )
    seen: dict[tuple[int, int], int] = {}
    for s in d.stops:
        px, py = f.xy(*_point(s))
        # stops on the same spot (e.g. at the village committee) fan out around it
        k = seen[round(px), round(py)] = seen.get((round(px), round(py)), -1) + 1
        if k:
            angle = k * _FAN_ANGLE
            px += _FAN_STEP * math.sqrt(k) * math.cos(angle)
            py += _FAN_STEP * math.sqrt(k) * math.sin(angle)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="15" fill="#fff" stroke="#000" '
            'stroke-width="2.5"/>'
            f'<text x="{px:.1f}" y="{py + 7:.1f}" font-size="20" text-anchor="middle">'
            f"{_e(s.order)}</text>"
        )
    parts.append(_scale_bar(f))
    parts.append("</svg>")
    return "".join(parts)
