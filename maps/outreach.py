"""The outreach map: each team's route per day, numbered stops, the service
point and the office; stops whose position is estimated (no point of their own,
see :mod:`planner.outreach.hops`) are drawn apart.

Names are shown (masked IDs and phones never): only outreach teams and admins
see this map.
"""

from __future__ import annotations

from datetime import date

import folium

from maps.base import BaseLayers, base_map
from maps.draw import add_layer_control, add_legend, esc, shift_xy
from planner.errors import InputError
from planner.outreach.hops import ESTIMATED
from planner.outreach.plan import MonthPlan, PlannedStop, TeamDay, TeamPlan
from planner.reports.route_day import ESTIMATED_HINT, ESTIMATED_MARK, labels, stop_name
from planner.settings import Config

__all__ = ["outreach_map", "team_day_layer_name"]

LAYER_PLACES = "服务点与出发地"
SERVICE_POINT_COLOUR = "red"
OFFICE_COLOUR = "darkblue"
ESTIMATED_FILL = "#bdbdbd"
SOURCE_ZH = {"household": "住户点位", "recorded": "入户记录点位", ESTIMATED: ESTIMATED_MARK}


def team_day_layer_name(team: TeamPlan, day: TeamDay) -> str:
    """The layer of one team-day: ``康复服务队（A）2026-12-01``."""
    return f"{team.label}（{team.team}）{day.date.isoformat()}"


def _pick(plan: MonthPlan, *, team: str | None, day: date | None) -> list[tuple[TeamPlan, TeamDay]]:
    if team is not None and team not in {t.team for t in plan.teams}:
        known = "、".join(f"{t.team}（{t.label}）" for t in plan.teams)
        raise InputError(f"{plan.month} 的方案中没有服务队「{team}」；可选：{known}")
    picked = [(t, d) for t, d in plan.team_days if team is None or t.team == team]
    if day is not None:
        days = sorted({d.date.isoformat() for _, d in picked})
        picked = [(t, d) for t, d in picked if d.date == day]
        if not picked:
            raise InputError(
                f"{day.isoformat()} 没有入村路线；{plan.month} 的入村日：{'、'.join(days) or '无'}"
            )
    return picked


def _stop_icon(stop: PlannedStop, colour: str) -> folium.DivIcon:
    estimated = stop.point_source == ESTIMATED
    fill = ESTIMATED_FILL if estimated else colour
    border = "2px dashed #333" if estimated else "2px solid #fff"
    return folium.DivIcon(
        html=(
            f"<div class='coverplan-stop' style='width:22px;height:22px;border-radius:50%;"
            f"background:{esc(fill)};border:{border};color:#fff;font:bold 12px/20px sans-serif;"
            f"text-align:center;transform:translate(-11px,-11px)'>{stop.order}</div>"
        ),
        icon_size=(0, 0),
    )


def _stop_popup(stop: PlannedStop, *, village: str) -> str:
    parts = [
        f"<b>{stop.order}. {esc(stop_name(stop))}</b>",
        f"{esc(village)} · 到达 {esc(stop.arrival)}，离开 {esc(stop.departure)}",
        f"服务：{esc(labels(stop))}",
        f"位置：{esc(SOURCE_ZH.get(stop.point_source, stop.point_source))}",
    ]
    if stop.point_source == ESTIMATED:
        parts.append(esc(ESTIMATED_HINT))
    return "<br>".join(parts)


def _team_day(
    m: folium.Map,
    team: TeamPlan,
    day: TeamDay,
    *,
    colour: str,
    names: dict[str, str],
    lunch: tuple[float, float],
    config: Config,
) -> None:
    """The route start → morning stops → lunch at the service point → afternoon
    stops → end, and the numbered stops."""
    fg = folium.FeatureGroup(name=team_day_layer_name(team, day))
    path = [(day.start.lon, day.start.lat)]
    path += [(s.lon, s.lat) for s in day.stops if s.arrival < day.lunch.start]
    if day.lunch.place:
        path.append(lunch)
    path += [(s.lon, s.lat) for s in day.stops if s.arrival >= day.lunch.start]
    path.append((day.end.lon, day.end.lat))
    folium.PolyLine(
        [shift_xy(x, y, config=config) for x, y in path],
        color=colour,
        weight=4,
        opacity=0.85,
        tooltip=f"{team.label} {day.date.isoformat()}：{day.stops_count} 户",
    ).add_to(fg)
    for stop in day.stops:
        village = names.get(stop.village_code, stop.village_code)
        mark = f"（{ESTIMATED_MARK}）" if stop.point_source == ESTIMATED else ""
        folium.Marker(
            shift_xy(stop.lon, stop.lat, config=config),
            icon=_stop_icon(stop, colour),
            tooltip=f"{stop.order}. {stop_name(stop)}{mark}",
            popup=folium.Popup(_stop_popup(stop, village=village), max_width=320),
        ).add_to(fg)
    fg.add_to(m)


def _places(m: folium.Map, plan: MonthPlan, *, config: Config) -> None:
    fg = folium.FeatureGroup(name=LAYER_PLACES)
    sp = plan.service_point
    folium.Marker(
        shift_xy(sp.lon, sp.lat, config=config),
        icon=folium.Icon(prefix="fa", icon="star", color=SERVICE_POINT_COLOUR),
        tooltip=f"现场服务点：{sp.name}",
        popup=folium.Popup(f"<b>现场服务点</b><br>{esc(sp.name)}", max_width=260),
    ).add_to(fg)
    if plan.office is not None:
        o = plan.office
        folium.Marker(
            shift_xy(o.lon, o.lat, config=config),
            icon=folium.Icon(prefix="fa", icon="building", color=OFFICE_COLOUR),
            tooltip=f"出发地：{o.name}",
            popup=folium.Popup(f"<b>出发地</b><br>{esc(o.name)}", max_width=260),
        ).add_to(fg)
    fg.add_to(m)


def outreach_map(
    plan: MonthPlan,
    *,
    base: BaseLayers,
    config: Config,
    team: str | None = None,
    day: date | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """A month's home-visit routes: one layer per team-day, numbered stops.

    Parameters
    ----------
    plan
        The month plan (:func:`planner.services.outreach_month`).
    base
        The district's base layers.
    config
        ``[maps] team_colours`` (one per team, in the plan's order).
    team
        Only this team's routes (``A``, ``B``, …); None: every team.
    day
        Only this day's routes; None: every day of the month.
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layers 服务点与出发地 and one per team-day (``康复服务队（A）2026-12-01``);
        stops numbered in visiting order, estimated positions grey with a
        dashed border; a legend and the layer control.

    Raises
    ------
    InputError
        An unknown team, or a day without routes (the message lists them).
    """
    picked = _pick(plan, team=team, day=day)
    m = m if m is not None else base_map(base, config=config)
    names = dict(zip(base.villages["code"], base.villages["name"], strict=True))
    colours = config.maps.team_colours
    colour_of = {t.team: colours[i % len(colours)] for i, t in enumerate(plan.teams)}
    _places(m, plan, config=config)
    for tm, d in picked:
        _team_day(
            m,
            tm,
            d,
            colour=colour_of[tm.team],
            names=names,
            config=config,
            lunch=(plan.service_point.lon, plan.service_point.lat),
        )
    items = [
        (colour_of[t.team], f"{t.label}（{t.team}）")
        for t in plan.teams
        if any(t is p for p, _ in picked)
    ]
    items.append((ESTIMATED_FILL, f"{ESTIMATED_MARK}（无住户点位，标在村委会）"))
    add_legend(
        m,
        f"{plan.month} 入户路线（数字为到访顺序）",
        items,
        kind="dot",
        note=f"★ 现场服务点：{plan.service_point.name}",
    )
    add_layer_control(m)
    return m
