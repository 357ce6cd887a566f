"""Merge the files of ``coverplan init`` with the stored district into the gazetteer to store.

Precedence: the packaged reference list < the stored district < the villages
file < the units table. Additive: new towns and villages, updated names, never a
removal; stored geometry is never replaced (the store keeps it, see
:meth:`planner.store.core.Store.load_gazetteer`). Pure: the files are read by
:mod:`planner.ingest.district`, the stored district by
:func:`planner.store.district.read_stored_district`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from geo.gazetteer import (
    TOWN_CODE_LEN,
    Gazetteer,
    Place,
    ReferenceDistrict,
    Town,
    Village,
    load_reference,
)
from planner.errors import InputError
from planner.ingest.district import UnitProblem, UnitsFile, VillagesFile, fail
from planner.store.district import StoredDistrict

__all__ = ["DistrictFiles", "DistrictPlan", "merge_names", "plan_district"]


@dataclass(frozen=True)
class DistrictFiles:
    """What ``coverplan init`` was given: the files read, and the district's names."""

    code: str
    units: UnitsFile | None
    villages: VillagesFile | None
    name: str | None
    parents: Sequence[str] | None
    former_codes: Sequence[str]
    aliases: Sequence[str]
    office: tuple[float, float] | None  # WGS-84
    office_name: str | None


@dataclass(frozen=True)
class DistrictPlan:
    """The gazetteer to store and what comes with it.

    ``polygons``: village code → GeoJSON boundary of the villages file;
    ``geometry_kept``: villages of the file that already had stored geometry
    (kept as stored); ``sources``: the inputs in words, for the summary.
    """

    gazetteer: Gazetteer
    office: Place | None
    polygons: dict[str, str]
    sources: tuple[str, ...]
    geometry_kept: int
    warnings: tuple[str, ...]


def merge_names(*groups: Sequence[str]) -> tuple[str, ...]:
    """The names of every group, first occurrence first, empty ones dropped."""
    return tuple(dict.fromkeys(v for g in groups for v in g if v))


def _base(
    given: DistrictFiles, ref: ReferenceDistrict | None, previous: Gazetteer | None
) -> tuple[Gazetteer | None, list[str]]:
    """The packaged reference gazetteer to start from (if used) and the sources in words."""
    sources: list[str] = []
    base: Gazetteer | None = None
    if given.units is None and given.villages is None:
        if ref is not None:
            base = load_reference(given.code)  # adds what the store lacks, renames nothing
            sources.append(f"内置区划（{ref.units}）")
        elif previous is None:
            load_reference(given.code)  # raises: no packaged list, say what to give
        else:
            sources.append("数据库中已有的区划")
    if given.units:
        sources.append(given.units.file)
    if given.villages:
        sources.append(given.villages.file)
    return base, sources


def _with_villages_file(
    vf: VillagesFile,
    towns: dict[str, Town],
    vills: dict[str, Village],
    named: set[str],
    problems: list[UnitProblem],
) -> None:
    for town_code, line in vf.town_lines.items():
        if town_code in named:
            continue
        town_name = vf.town_names.get(town_code)
        if town_name is None:
            problems.append(
                UnitProblem(
                    vf.file,
                    line,
                    None,
                    town_code,
                    f"镇街 {town_code} 没有名称：请在村社文件中加镇街列"
                    "（如 镇街、乡镇（街道）），或用 --units 区划表提供镇街",
                )
            )
            continue
        towns[town_code] = Town(code=town_code, name=town_name)
    for row in vf.villages:
        old_v = vills.get(row.code)
        point = vf.geometry.get(row.code)
        vills[row.code] = Village(
            code=row.code,
            name=row.name,
            town_code=row.code[:TOWN_CODE_LEN],
            aliases=merge_names(old_v.aliases if old_v else (), vf.aliases.get(row.code, ())),
            lon=point.lon if point else None,
            lat=point.lat if point else None,
        )


def _with_units_villages(
    uf: UnitsFile,
    towns: dict[str, Town],
    vills: dict[str, Village],
    problems: list[UnitProblem],
) -> None:
    for row in uf.villages:
        if row.town_code not in towns:
            problems.append(
                UnitProblem(
                    uf.file,
                    row.line,
                    None,
                    row.code,
                    f"村社所属镇街 {row.town_code} 不在区划表中，数据库中也没有；请先列出该镇街",
                )
            )
            continue
        old_v = vills.get(row.code)
        town_code = row.town_code or row.code[:TOWN_CODE_LEN]
        vills[row.code] = (
            Village(code=row.code, name=row.name, town_code=town_code)
            if old_v is None
            else Village(
                code=row.code,
                name=row.name,
                town_code=town_code,
                aliases=old_v.aliases,
                lon=old_v.lon,
                lat=old_v.lat,
            )
        )


def _units(
    given: DistrictFiles, layers: Sequence[Gazetteer | None]
) -> tuple[dict[str, Town], dict[str, Village]]:
    """Towns and villages by code: each layer overrides the ones before, then the files."""
    towns: dict[str, Town] = {}
    vills: dict[str, Village] = {}
    for gaz in layers:
        if gaz is not None:
            towns.update({tw.code: tw for tw in gaz.towns})
            vills.update({v.code: v for v in gaz.villages})
    problems: list[UnitProblem] = []
    named = {tw.code for tw in towns.values()}
    if given.units:
        for row in given.units.towns:
            old = towns.get(row.code)
            towns[row.code] = Town(code=row.code, name=row.name, aliases=old.aliases if old else ())
        named |= {row.code for row in given.units.towns}
    if given.villages:
        _with_villages_file(given.villages, towns, vills, named, problems)
    if given.units:
        _with_units_villages(given.units, towns, vills, problems)
    if problems:
        fail(problems)
    if not vills:
        raise InputError(
            "没有任何村社：区划表需要村社行（级别 village/村社），或用 --villages 提供村社文件"
        )
    return towns, vills


def _office(
    given: DistrictFiles,
    district_name: str,
    ref: ReferenceDistrict | None,
    stored: StoredDistrict | None,
) -> Place | None:
    if given.office is not None:
        lon, lat = given.office
        return Place(name=given.office_name or f"{district_name}残联", lon=lon, lat=lat)
    if given.office_name is not None:
        raise InputError("--office-name 需要与 --office 经度,纬度 一起使用")
    if ref is not None and ref.office is not None and not (stored and stored.has_office):
        return ref.office
    return None


def _warnings(given: DistrictFiles) -> list[str]:
    if not (given.units and given.villages):
        return []
    listed = {r.code for r in given.units.villages}
    extra = [r.code for r in given.villages.villages if r.code not in listed]
    if not extra:
        return []
    return [f"村社文件中有 {len(extra)} 个村社不在区划表中（如 {extra[0]}），已按村社文件加入"]


def plan_district(
    given: DistrictFiles,
    *,
    stored: StoredDistrict | None,
    ref: ReferenceDistrict | None,
) -> DistrictPlan:
    """The gazetteer (and office, boundaries) ``coverplan init`` stores.

    Parameters
    ----------
    given
        The files read and the options given.
    stored
        What the store already holds (None for a new store); of the same district.
    ref
        The packaged reference entry of the district, if any.

    Raises
    ------
    InputError
        With every problem (file, row), when the files leave a town without a
        name or a village without its town, there are no villages, no district
        name is known, or ``--office-name`` comes without ``--office``.
    GazetteerError
        When neither files, a stored district nor a packaged list give the units.
    """
    previous = stored.gazetteer if stored is not None else None
    base, sources = _base(given, ref, previous)
    towns, vills = _units(given, (base, previous))
    units_name = given.units.county_name if given.units else None
    district_name = (
        given.name
        or units_name
        or (stored.name if stored is not None else None)
        or (ref.name if ref else None)
    )
    if not district_name:
        raise InputError(
            "不知道区县名称：请加 --name 区县名称（如 --name 奉化区），"
            "或在区划表中加一行区县（级别 county/区县）"
        )
    prev_parents = previous.parents if previous else (ref.parents if ref else ())
    gazetteer = Gazetteer(
        district_code=given.code,
        district_name=district_name,
        towns=tuple(towns[c] for c in sorted(towns)),
        villages=tuple(vills[c] for c in sorted(vills)),
        former_codes=merge_names(
            previous.former_codes if previous else (),
            ref.former_codes if ref else (),
            given.former_codes,
        ),
        district_aliases=merge_names(
            previous.district_aliases if previous else (),
            ref.aliases if ref else (),
            given.aliases,
        ),
        parents=tuple(given.parents) if given.parents is not None else prev_parents,
    )
    office = _office(given, district_name, ref, stored)
    vf = given.villages
    polygons = {c: g.polygon for c, g in vf.geometry.items() if g.polygon} if vf else {}
    kept = 0
    if vf and previous is not None:
        had = {v.code for v in previous.villages if v.has_point}
        kept = sum(1 for c in vf.geometry if c in had)
    return DistrictPlan(
        gazetteer=gazetteer,
        office=office,
        polygons=polygons,
        sources=tuple(sources),
        geometry_kept=kept,
        warnings=tuple(_warnings(given)),
    )
