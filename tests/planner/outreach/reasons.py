"""An independent recomputation of a month plan's visits and of every ``unplanned`` reason.

Written from the rules, not from :mod:`planner.outreach`: team skills and
service skills come from the configuration, household points from the store
(own point, else the village's), the snap distance from the network's nearest
node against ``[network] snap_max_m``, and whether any shift had time left by
trying the visit at every position of every route of a team able to make it,
on the travel-time matrix of each day's routing problem (so the planner's
travel rule is used, not its judgement). The routing stops are found by their
label ``R<resident id>:<service>+…`` (``L<lead id>:…`` for a lead).

The reason a visit is not planned, decided in this order:

- ``not_located``: neither the household nor its village has a point;
- ``off_network``: the point is farther than ``snap_max_m`` from the network;
- ``no_team_skill``: no team has every skill the visit's services need;
- ``too_far``: even alone, no half-day shift of a team able to make it fits it;
- ``shift_full``: it fits alone, but at no position of any day's route of such a team.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from planner.outreach.plan import MonthPlan
from planner.settings import Config


def _coord(value: Any) -> float:
    """A coordinate, NaN when missing."""
    return math.nan if value is None or pd.isna(value) else float(value)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def needed_skills(services: Sequence[str], config: Config) -> set[str]:
    """Skills the services need (``[outreach.services.*] skill``)."""
    return {config.outreach.services[s].skill for s in services} - {""}


def able_teams(skills: set[str], config: Config) -> list[str]:
    """Teams (``[outreach.teams]``) having every skill of ``skills``."""
    return [k for k, tm in config.outreach.teams.items() if skills <= set(tm.skills)]


def household_key(entry: Mapping[str, Any]) -> str:
    """``R<resident id>`` or ``L<lead id>`` of a stop or an unplanned entry (JSON form)."""
    if entry["resident_id"] is not None:
        return f"R{entry['resident_id']}"
    return f"L{entry['lead_id']}"


def _label(entry: Mapping[str, Any]) -> str:
    return f"{household_key(entry)}:{'+'.join(entry['services'])}"


def _finish(problem: Any, shift: Any, order: Sequence[Any]) -> tuple[int, bool]:
    """Arrival at the end of ``shift`` visiting the stops ``order`` when leaving at
    its earliest time, and whether every stop starts within its window."""
    d = problem.duration
    t, here, ok = shift.earliest_s, shift.start, True
    for stop in order:
        t = max(t + int(d[here][stop.location]), stop.earliest_s)
        ok &= t <= stop.latest_s
        t += stop.service_s
        here = stop.location
    return t + int(d[here][shift.end]), ok


def _time_reason(plan: MonthPlan, entry: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``too_far`` or ``shift_full`` for a routable visit no day took, and what breaks
    that (a position where it would have fitted)."""
    label = _label(entry)
    alone_fits, wrong = False, []
    for day, (problem, result) in enumerate(plan.routing):
        found = [s for s in problem.stops if s.label == label]
        if len(found) != 1:
            wrong.append(f"{label}: {len(found)} routing stops on day {day}")
            continue
        stop = found[0]
        for k, shift in enumerate(problem.shifts):
            if not set(stop.skills) <= set(shift.skills):
                continue
            end, ok = _finish(problem, shift, [stop])
            alone_fits |= ok and end <= shift.latest_s
            order = [problem.stops[v.stop] for v in result.routes[k].visits]
            for pos in range(len(order) + 1):
                end, ok = _finish(problem, shift, [*order[:pos], stop, *order[pos:]])
                if ok and end <= shift.latest_s:
                    wrong.append(f"{label} fits shift {shift.label} of day {day} at {pos}")
    return ("shift_full" if alone_fits else "too_far"), wrong


def recheck_unplanned(
    plan: MonthPlan,
    *,
    config: Config,
    network: Any,
    residents: pd.DataFrame,
    villages: pd.DataFrame,
) -> tuple[list[str], dict[str, str]]:
    """Disagreements between each ``unplanned`` entry and its recomputed reason.

    Parameters
    ----------
    plan
        The month plan (with its ``routing``).
    config
        The configuration the plan was made with.
    network
        The drive network.
    residents, villages
        :func:`planner.store.frames.residents_frame` (indexed by resident id) and
        :func:`planner.store.frames.villages_frame`.

    Returns
    -------
    list of str
        Disagreements (empty: every code and text agrees).
    dict
        The recomputed code per visit label.
    """
    vf = villages.set_index("code")
    teams = config.outreach.teams
    held = set().union(*(set(tm.skills) for tm in teams.values()))
    labels = config.outreach.skill_labels
    max_m = config.network.snap_max_m
    doc = plan.to_json()
    entries_of: dict[str, int] = defaultdict(int)
    for e in [*_stops(doc), *doc["unplanned"]]:
        entries_of[household_key(e)] += 1
    out: list[str] = []
    codes: dict[str, str] = {}
    for u in doc["unplanned"]:
        label = _label(u)
        lon, lat = math.nan, math.nan
        if u["resident_id"] is not None:
            r = residents.loc[u["resident_id"]]
            lon, lat = _coord(r["lon"]), _coord(r["lat"])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            v = u["village_code"]
            lon, lat = _coord(vf.at[v, "lon"]), _coord(vf.at[v, "lat"])
        need = needed_skills(u["services"], config)
        text = u["reason"]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            code, words = "not_located", ["没有住户点位"]
        else:
            dist = float(network.snap([lon], [lat]).distance_m[0])
            if dist > max_m:
                code, words = "off_network", [f"距路网过远（{dist:.0f} 米）"]
            elif not able_teams(need, config):
                missing = need - held
                code = "no_team_skill"
                words = [f"「{labels.get(s, s)}」" for s in sorted(missing)] or ["同时具备"]
                words.append("没有具备" if missing else "split_skills")
            else:
                code, wrong = _time_reason(plan, u)
                out += wrong
                words = (
                    ["本月时间排满", f"优先级 {u['priority']:g}"]
                    if code == "shift_full"
                    else ["车程过远"]
                )
        codes[label] = code
        if u["reason_code"] != code:
            out.append(f"{label}: reason_code {u['reason_code']} != recomputed {code}")
        out += [f"{label}: reason {text!r} lacks {w!r}" for w in words if w not in text]
        if entries_of[household_key(u)] > 1:  # one visit of a split household
            part = "、".join(config.outreach.services[s].label for s in u["services"])
            if "拆分入户" not in text or part not in text:
                out.append(f"{label}: a split visit's reason {text!r} does not name its part")
    return out, codes


def _stops(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {**s, "team": tm["team"], "date": d["date"]}
        for tm in doc["teams"]
        for d in tm["days"]
        for s in d["stops"]
    ]


def check_visits(plan: MonthPlan, *, config: Config, needs: Mapping[str, set[str]]) -> list[str]:
    """What breaks the visit rules in ``plan``.

    Every routing result passes the independent checker's rules elsewhere; here:
    each stop's skills are within its team's (from the configuration), it lies in
    a shift, lunch holds, its service minutes are its services'; per household
    (``needs``: household key → services needed), the services of its stops and
    unplanned entries partition what it needs; a household gets several visits
    only when no team has all its skills, and each visit of a split household
    lists the others (``other_visits``) with their team or reason.
    """
    oc = config.outreach
    doc = plan.to_json()
    out: list[str] = []
    lunch = (_minutes(oc.lunch_start), _minutes(oc.lunch_end))
    stops = _stops(doc)
    for s in stops:
        team_skills = set(oc.teams[s["team"]].skills)
        if not needed_skills(s["services"], config) <= team_skills:
            out.append(f"{_label(s)}: team {s['team']} lacks skills")
        start, end = _minutes(s["start"]), _minutes(s["departure"])
        if _minutes(s["arrival"]) < _minutes(oc.shift_start) or end > _minutes(oc.shift_end):
            out.append(f"{_label(s)}: outside the day")
        if not (end <= lunch[0] or start >= lunch[1]):
            out.append(f"{_label(s)}: over lunch")
        if end - start != round(sum(oc.services[k].minutes for k in s["services"])):
            out.append(f"{_label(s)}: service minutes")
    entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in [*stops, *doc["unplanned"]]:
        entries[household_key(e)].append(e)
    if set(entries) != set(needs):
        out.append(f"households {sorted(set(entries) ^ set(needs))} planned or needed only")
    for key, es in entries.items():
        got = [x for e in es for x in e["services"]]
        if len(got) != len(set(got)) or set(got) != needs.get(key, set()):
            out.append(f"{key}: services {got} != needed {sorted(needs.get(key, set()))}")
        if len(es) > 1 and able_teams(needed_skills(got, config), config):
            out.append(f"{key}: split although a team has all its skills")
        for e in es:
            others = e.get("other_visits", [])
            if len(others) != len(es) - 1:
                out.append(f"{_label(e)}: {len(others)} other visits listed, {len(es) - 1} exist")
            for o in others:
                twin = [x for x in es if x is not e and x["services"] == o["services"]]
                seen = [
                    (x.get("team"), x.get("date"), x.get("arrival"), x.get("reason_code"))
                    for x in twin
                ]
                told = (o["team"], o["date"], o["arrival"], o["reason_code"])
                if told not in seen:
                    out.append(f"{_label(e)}: other visit {told} is not what happened")
    return out
