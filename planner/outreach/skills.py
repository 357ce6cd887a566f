"""Which team can do which part of a household's home visit.

A household's home services each need a team skill (``[outreach.services.*]
skill``); a team carries several (``[outreach.teams.*] skills``). When one team
has every skill the household needs, one visit by that team does it all. When
none has, the household is split (``[outreach] split_skills = "when_needed"``)
into visits each team can do: the team covering most of the skills still needed
takes those services (ties: the team listed first), then the next, until every
skill some team has is covered; services needing a skill no team has form a
part of their own that no team can visit (reason ``no_team_skill``). Services
needing no skill go with the first part. With ``split_skills = "never"`` such a
household stays one visit that no team can make.

Frames in, frames out: :func:`split_visits` turns the households of
:func:`planner.outreach.needs.person_needs` into the visits to route.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from planner.settings import Config

__all__ = ["VisitPart", "skill_names", "split_services", "split_visits", "team_skills"]


@dataclass(frozen=True)
class VisitPart:
    """One visit of a household: the services it covers and who can make it.

    Attributes
    ----------
    services
        Service keys (``[outreach.services]``) of this visit, in the household's order.
    skills
        Skills the visiting team needs.
    teams
        Teams (``[outreach.teams]`` keys) having all of ``skills``; empty when none has.
    missing
        Skills of ``skills`` that no team has at all.
    """

    services: tuple[str, ...]
    skills: frozenset[str]
    teams: tuple[str, ...]
    missing: frozenset[str]


def team_skills(config: Config) -> dict[str, frozenset[str]]:
    """Each team's skills, in the order of ``[outreach.teams]``."""
    return {key: frozenset(tm.skills) for key, tm in config.outreach.teams.items()}


def skill_names(skills: Sequence[str] | frozenset[str], *, config: Config) -> str:
    """Skills as named in ``[outreach] skill_labels`` (the key when unnamed), 「」-quoted."""
    labels = config.outreach.skill_labels
    return "、".join(f"「{labels.get(s, s)}」" for s in sorted(skills))


def _part(services: Sequence[str], *, config: Config) -> VisitPart:
    oc = config.outreach
    teams = team_skills(config)
    skills = frozenset(oc.services[s].skill for s in services if oc.services[s].skill)
    held = frozenset().union(*teams.values()) if teams else frozenset()
    return VisitPart(
        services=tuple(services),
        skills=skills,
        teams=tuple(k for k, have in teams.items() if skills <= have),
        missing=skills - held,
    )


def split_services(services: Sequence[str], *, config: Config) -> tuple[VisitPart, ...]:
    """The visits a household needing ``services`` gets.

    One visit when a team has every skill needed, or when ``[outreach]
    split_skills = "never"``; otherwise one visit per team chosen greedily
    (most skills still needed first, ties by ``[outreach.teams]`` order), plus a
    visit no team can make for the services needing skills no team has.

    Parameters
    ----------
    services
        Service keys of ``[outreach.services]``.
    config
        ``[outreach]`` services, teams and ``split_skills``.

    Returns
    -------
    tuple of VisitPart
        The visits, the ones some team can make first; their services
        partition ``services``.
    """
    whole = _part(services, config=config)
    if whole.teams or config.outreach.split_skills == "never" or len(services) < 2:
        return (whole,)
    oc = config.outreach
    skill_of = {s: oc.services[s].skill for s in services}
    todo = set(whole.skills - whole.missing)
    groups: list[list[str]] = []
    teams = team_skills(config)
    while todo:
        key = max(teams, key=lambda k: len(teams[k] & todo))  # first of the ties
        take = teams[key] & todo
        groups.append([s for s in services if skill_of[s] in take])
        todo -= take
    free = [s for s in services if not skill_of[s]]
    lost = [s for s in services if skill_of[s] in whole.missing]
    if groups:
        groups[0] = [s for s in services if s in set(groups[0]) | set(free)]
    elif free:
        lost = [s for s in services if s in set(lost) | set(free)]
    if lost:
        groups.append(lost)
    return tuple(_part(g, config=config) for g in groups)


VISIT_COLUMNS = ["part", "parts", "teams", "missing"]


def split_visits(home: pd.DataFrame, *, config: Config) -> pd.DataFrame:
    """The visits to route: each household of ``home`` as one or more parts.

    Parameters
    ----------
    home
        The ``home`` frame of :func:`planner.outreach.needs.person_needs` (one
        row per household: ``key``, ``services``, ``minutes``, ``skills``,
        ``priority``, …).
    config
        ``[outreach]`` services, teams and ``split_skills``.

    Returns
    -------
    pandas.DataFrame
        ``home``'s columns, one row per visit (a split household has a row per
        part, in :func:`split_services` order, with its own ``services``,
        ``minutes``, ``skills`` and ``priority``), plus ``part`` (1-based),
        ``parts`` (visits of the household), ``teams`` (teams able to make the
        visit, tuple) and ``missing`` (skills no team has, frozenset).
    """
    oc = config.outreach
    rows = []
    for r in home.to_dict(orient="records"):
        parts = split_services(list(r["services"]), config=config)
        for n, p in enumerate(parts, start=1):
            rows.append(
                {
                    **r,
                    "services": list(p.services),
                    "minutes": sum(oc.services[s].minutes for s in p.services),
                    "skills": p.skills,
                    "priority": max(oc.services[s].priority for s in p.services),
                    "part": n,
                    "parts": len(parts),
                    "teams": p.teams,
                    "missing": p.missing,
                }
            )
    return pd.DataFrame(rows, columns=[*home.columns, *VISIT_COLUMNS])
