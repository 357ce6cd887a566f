"""Set up a district and summarise a store: ``coverplan init`` and ``coverplan status``.

:func:`init_district` reads and validates every file before anything is
written (:mod:`planner.ingest.district`), refuses a store of another district
untouched, merges the files with the stored district
(:mod:`planner.ingest.district_merge`) and writes in one transaction
(:mod:`planner.store.district`; a new SQLite file that fails is removed again).
A store of the same district is added to: new towns and villages, updated
names, never a removal, never a change to stored geometry, residents or
anything else. :func:`status` counts what a store holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo import crs as geocrs
from geo.gazetteer import DISTRICT_CODE_LEN, Place, reference_district
from planner.errors import InputError, StoreError
from planner.ingest.district import (
    file_digests,
    parse_district_code,
    read_units,
    read_village_file,
)
from planner.ingest.district_merge import DistrictFiles, plan_district
from planner.ingest.normalize import COORD_DIGITS, in_china
from planner.jsonable import to_jsonable
from planner.settings import Config, get_settings
from planner.store.core import GazetteerChanges, Store, display_url
from planner.store.district import read_stored_district, write_district
from planner.store.summary import StoreSummary, summarize

__all__ = ["InitOptions", "InitResult", "StoreSummary", "init_district", "status"]


@dataclass(frozen=True, kw_only=True)
class InitOptions:
    """What ``coverplan init`` is given.

    Attributes
    ----------
    district
        6-digit district code.
    units, villages
        An admin-units table and/or a villages file (see
        :func:`planner.ingest.district.read_units` and
        :func:`~planner.ingest.district.read_village_file`).
        With neither, the packaged reference list of ``district`` (if any); on
        a store of the same district, files are optional (the call then
        updates the metadata only).
    crs
        System of the villages file's coordinates and of ``office``.
    name
        District name; needed when no units county row, stored district or
        reference entry gives one.
    parents
        Enclosing units, outermost first (浙江省, 宁波市); replaces the stored ones.
    former_codes, aliases
        Earlier district codes and names; added to the stored ones.
    office
        The federation office (lon, lat in ``crs``): start and end of outreach routes.
    office_name
        Its name (default: the district name + 残联).
    geometry
        False: take codes and names only from the villages file.

    Raises
    ------
    InputError
        When the district code, the CRS, a former code or the office is invalid.
    """

    district: str
    units: Path | None = None
    villages: Path | None = None
    crs: str = "wgs84"
    name: str | None = None
    parents: tuple[str, ...] | None = None
    former_codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    office: tuple[float, float] | None = None
    office_name: str | None = None
    geometry: bool = True

    def __post_init__(self) -> None:
        code = parse_district_code(self.district)
        object.__setattr__(self, "district", code)
        object.__setattr__(self, "crs", geocrs.parse_crs(self.crs))
        for former in self.former_codes:
            if not (former.isdigit() and len(former) == DISTRICT_CODE_LEN) or former == code:
                raise InputError(
                    f"--former-codes「{former}」应为另一个 6 位区县代码"
                    "（撤县设区前的代码，如 330283）"
                )
        if self.office is not None and not in_china(*self.office):
            raise InputError(
                f"--office「{self.office[0]},{self.office[1]}」不在中国境内；"
                "应为 经度,纬度（如 121.40,29.66）"
            )

    def office_wgs84(self) -> tuple[float, float] | None:
        """The office point in WGS-84 (rounded as stored), or None."""
        if self.office is None:
            return None
        x, y = geocrs.to_wgs84(self.office[0], self.office[1], crs=self.crs)
        return round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS)


@dataclass(frozen=True)
class InitResult:
    """What ``coverplan init`` did. ``to_json`` gives the ``--json`` object."""

    db: str
    created: bool
    district_code: str
    district_name: str
    towns: int
    villages: int
    changes: GazetteerChanges
    geometry_kept: int
    without_geometry: int
    office: Place | None
    sources: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "db": self.db,
                "created": self.created,
                "district_code": self.district_code,
                "district_name": self.district_name,
                "towns": self.towns,
                "villages": self.villages,
                "towns_added": self.changes.towns_added,
                "villages_added": self.changes.villages_added,
                "towns_renamed": self.changes.towns_renamed,
                "villages_renamed": self.changes.villages_renamed,
                "geometry": self.changes.geometry_set,
                "geometry_kept": self.geometry_kept,
                "without_geometry": self.without_geometry,
                "synthetic_geometry": 0,
                "office": (
                    {"name": self.office.name, "lon": self.office.lon, "lat": self.office.lat}
                    if self.office
                    else None
                ),
                "sources": list(self.sources),
                "warnings": list(self.warnings),
            }
        )

    def text(self) -> str:
        c = self.changes
        head = "已初始化" if self.created else "已更新"
        lines = [
            f"{head}数据库 {self.db}：{self.district_name}（{self.district_code}）"
            f"{self.towns} 个镇街，{self.villages} 个村社"
            f"（来源：{'、'.join(self.sources)}）",
        ]
        if not self.created:
            lines.append(
                f"  新增 {c.towns_added} 个镇街、{c.villages_added} 个村社；"
                f"更新名称 {c.towns_renamed + c.villages_renamed} 个；未删除任何数据"
            )
        if c.geometry_set:
            lines.append(f"  载入 {c.geometry_set} 个村社的位置或边界")
        if self.geometry_kept:
            lines.append(
                f"  {self.geometry_kept} 个村社已有位置或边界，保持不变"
                "（更新请用 coverplan import villages 文件）"
            )
        if self.without_geometry:
            lines.append(
                f"  {self.without_geometry} 个村社还没有位置：请用 coverplan import villages 文件"
                " 导入村社点位或边界（覆盖、缺口、选址和入村都需要）"
            )
        if self.office:
            o = self.office
            lines.append(f"  残联办公地点：{o.name}（{o.lon:.6f}, {o.lat:.6f}）")
        else:
            lines.append(
                "  未设置残联办公地点：入村时入户队从现场服务点出发并返回"
                "（可用 coverplan init --district 代码 --office 经度,纬度 设置）"
            )
        lines += [f"  注意：{w}" for w in self.warnings]
        return "\n".join(lines)


def _read_files(options: InitOptions, *, config: Config) -> DistrictFiles:
    """Read and validate the files (nothing touches the store yet)."""
    search_rows = config.import_.header_search_rows
    code = options.district
    units = (
        read_units(options.units, district=code, search_rows=search_rows) if options.units else None
    )
    villages = (
        read_village_file(
            options.villages,
            district=code,
            crs=options.crs,
            geometry=options.geometry,
            search_rows=search_rows,
        )
        if options.villages
        else None
    )
    return DistrictFiles(
        code=code,
        units=units,
        villages=villages,
        name=options.name,
        parents=options.parents,
        former_codes=options.former_codes,
        aliases=options.aliases,
        office=options.office_wgs84(),
        office_name=options.office_name,
    )


def init_district(url: str | None, *, config: Config, options: InitOptions) -> InitResult:
    """Set up (or add to) the store of a district.

    The first argument is the store's URL rather than an open store: a store of
    another district must be refused before anything (even a migration) is
    written, and a new SQLite file that fails is removed again.

    Parameters
    ----------
    url
        Store URL (None: the settings' store).
    config
        ``[import] header_search_rows``: leading rows searched for a header.
    options
        The district, its files and names.

    Raises
    ------
    InputError
        A file or option is invalid (every problem with file, row, column).
    StoreError
        The store holds another district (nothing written), or cannot be opened.
    """
    given = _read_files(options, config=config)
    code = options.district
    store_url = url or get_settings().store_url
    stored = read_stored_district(store_url)
    if stored is not None and stored.code and stored.code != code:
        raise StoreError(
            f"数据库 {display_url(store_url)} 已是 {stored.name}（{stored.code}）的数据库，"
            f"不能再初始化为区县 {code}；数据库未做任何更改。"
            "请用 --db 指定另一个数据库（一个数据库只放一个区县）。"
        )
    plan = plan_district(given, stored=stored, ref=reference_district(code))
    detail: dict[str, Any] = {
        "files": file_digests(options.units, options.villages),
        "crs": options.crs,
    }
    written = write_district(
        store_url,
        plan.gazetteer,
        new_store=stored is None,
        office=plan.office,
        polygons=plan.polygons,
        detail=detail,
    )
    final = written.gazetteer
    return InitResult(
        db=display_url(store_url),
        created=stored is None or stored.gazetteer is None,
        district_code=code,
        district_name=plan.gazetteer.district_name,
        towns=len(final.towns),
        villages=len(final.villages),
        changes=written.changes,
        geometry_kept=plan.geometry_kept,
        without_geometry=sum(1 for v in final.villages if not v.has_point),
        office=written.office,
        sources=plan.sources,
        warnings=plan.warnings,
    )


def status(store: Store, *, config: Config) -> StoreSummary:
    """Counts per town, category and facility type of what ``store`` holds (no personal data)."""
    return summarize(store, config=config)
