"""Set up any district in a store: ``coverplan init --district CODE --units FILE --villages FILE``.

The district's towns and villages come from an admin-units table (``--units``:
``code,name,level,parent_code,parent_name`` or 代码/名称/级别/上级代码/上级名称,
CSV/XLSX/XLS read by :mod:`planner.ingest.readers`), from a villages file
(``--villages``: GeoJSON/GeoPackage/Shapefile/CSV/XLSX with village codes and
names, town code and/or name, points or polygons in WGS-84, GCJ-02 or BD-09,
read like ``coverplan import villages``), or, with neither, from the packaged
reference list when ``data/reference/districts.toml`` has the district.

Everything is read and validated before anything is written; every problem is
reported with file, row, column and reason. The store is then written in one
transaction (a new SQLite file that fails is removed again). A store of another
district is refused before any write; a store of the same district is added to:
new towns and villages, updated names, never a removal, never a change to
stored geometry, residents or anything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError

from geo import crs as geocrs
from geo.gazetteer import (
    DISTRICT_CODE_LEN,
    TOWN_CODE_LEN,
    VILLAGE_CODE_LEN,
    Gazetteer,
    Place,
    ReferenceDistrict,
    Town,
    Village,
    load_reference,
    reference_district,
)
from planner.errors import InputError, StoreError
from planner.ingest import normalize as nz
from planner.ingest.columns import header_key, map_columns, score_header
from planner.ingest.readers import RawTable, read_table
from planner.store import schema as t
from planner.store.core import (
    META_CODE,
    META_NAME,
    META_OFFICE,
    GazetteerChanges,
    Store,
    display_url,
    open_store,
    redact_url,
)

__all__ = ["InitResult", "init_district", "read_units", "read_village_file"]

INIT_SOURCE = "init"
CHINA_LON = (73.0, 136.0)  # degrees; a point outside is a swapped or wrong coordinate
CHINA_LAT = (3.0, 54.0)
COORD_DIGITS = 7  # stored lon/lat decimals (about 1 cm)
POLYGON_PRECISION_DEG = 1e-7
MAX_PROBLEMS_SHOWN = 20
_PADDED_COUNTY = "000000"  # NBS 12-digit form of a county code: 330213000000
_PADDED_TOWN = "000"  # ... of a town code: 330213001000

LEVEL_COUNTY = "county"
LEVEL_TOWN = "town"
LEVEL_VILLAGE = "village"
_LEVELS = {
    "county": LEVEL_COUNTY,
    "区县": LEVEL_COUNTY,
    "县区": LEVEL_COUNTY,
    "区": LEVEL_COUNTY,
    "县": LEVEL_COUNTY,
    "县级": LEVEL_COUNTY,
    "town": LEVEL_TOWN,
    "镇街": LEVEL_TOWN,
    "乡镇": LEVEL_TOWN,
    "乡镇街道": LEVEL_TOWN,
    "镇": LEVEL_TOWN,
    "街道": LEVEL_TOWN,
    "乡": LEVEL_TOWN,
    "乡级": LEVEL_TOWN,
    "village": LEVEL_VILLAGE,
    "村社": LEVEL_VILLAGE,
    "村居": LEVEL_VILLAGE,
    "村": LEVEL_VILLAGE,
    "社区": LEVEL_VILLAGE,
    "村级": LEVEL_VILLAGE,
}
UNIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "代码", "区划代码", "统计用区划代码", "行政区划代码"),
    "name": ("name", "名称", "区划名称"),
    "level": ("level", "级别", "层级"),
    "parent_code": ("parent_code", "上级代码", "上级区划代码"),
    "parent_name": ("parent_name", "上级名称"),
}
_UNIT_LOOKUP = {header_key(n): f for f, names in UNIT_COLUMNS.items() for n in names}


# --------------------------------------------------------------------- problems


@dataclass(frozen=True)
class _Problem:
    file: str
    line: int | None
    column: str | None
    value: str | None
    reason: str

    def text(self) -> str:
        return str(
            InputError(
                self.reason, file=self.file, row=self.line, column=self.column, value=self.value
            )
        )


def _fail(problems: Sequence[_Problem]) -> NoReturn:
    lines = [p.text() for p in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"……另有 {len(problems) - MAX_PROBLEMS_SHOWN} 处问题")
    lines.append("数据库未做任何更改；请改正后重新运行 coverplan init。")
    raise InputError("\n".join(lines))


# --------------------------------------------------------------------- reading


@dataclass(frozen=True)
class UnitRow:
    """One town or village of a units or villages file (``line``: the file's row)."""

    file: str
    line: int
    code: str
    name: str
    town_code: str | None = None  # villages: the 9-digit town code


@dataclass
class UnitsFile:
    """An admin-units table: the county row (if any), towns and villages."""

    file: str
    county_name: str | None = None
    towns: list[UnitRow] = field(default_factory=list)
    villages: list[UnitRow] = field(default_factory=list)


@dataclass(frozen=True)
class VillageGeometry:
    """A village's point and polygon (GeoJSON text), WGS-84."""

    lon: float | None
    lat: float | None
    polygon: str | None


@dataclass
class VillagesFile:
    """A villages file: villages, the town names it gives, and their geometry."""

    file: str
    villages: list[UnitRow] = field(default_factory=list)
    town_names: dict[str, str] = field(default_factory=dict)  # town code -> first name given
    town_lines: dict[str, int] = field(default_factory=dict)  # town code -> first row
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    geometry: dict[str, VillageGeometry] = field(default_factory=dict)


def _unit_code(raw: object, *, level: str) -> str | None:
    """A town (9-digit) or village (12-digit) code; NBS's 12-digit padded forms are accepted."""
    code = nz.compact(raw)
    if code is None:
        return None
    if level == LEVEL_COUNTY and len(code) == VILLAGE_CODE_LEN and code.endswith(_PADDED_COUNTY):
        return code[:DISTRICT_CODE_LEN]
    if level == LEVEL_TOWN and len(code) == VILLAGE_CODE_LEN and code.endswith(_PADDED_TOWN):
        return code[:TOWN_CODE_LEN]
    return code


def _check_code(code: str, *, level: str, district: str) -> str | None:
    """Why ``code`` is not a valid code of ``level`` in ``district`` (None: valid)."""
    length = {LEVEL_COUNTY: DISTRICT_CODE_LEN, LEVEL_TOWN: TOWN_CODE_LEN}.get(
        level, VILLAGE_CODE_LEN
    )
    label = {LEVEL_COUNTY: "区县", LEVEL_TOWN: "镇街"}.get(level, "村社")
    if not (code.isdigit() and len(code) == length):
        return f"{label}代码应为 {length} 位数字（统计用区划代码）"
    if not code.startswith(district):
        if level == LEVEL_COUNTY:
            return f"区县代码与 --district {district} 不一致"
        return f"{label}代码不以区县代码 {district} 开头；是否混入了其他区县的数据？"
    return None


def _score_units_header(cells: list[object]) -> int:
    return len({_UNIT_LOOKUP[k] for c in cells if (k := header_key(c)) in _UNIT_LOOKUP})


def read_units(path: Path | str, *, district: str, search_rows: int = 15) -> UnitsFile:
    """Read an admin-units table of ``district``.

    Parameters
    ----------
    path
        CSV (UTF-8/GBK/GB18030/UTF-16, detected) or XLSX/XLS with the columns
        ``code,name,level`` (代码/名称/级别) and optionally ``parent_code,
        parent_name`` (上级代码/上级名称). ``level``: ``county``/``town``/
        ``village`` or 区县/镇街/村社. Codes are the 6/9/12-digit 统计用区划代码
        (12-digit padded forms of county and town codes are accepted).
    district
        The 6-digit district code every row must belong to.
    search_rows
        Leading rows searched for the header (title rows may sit above it).

    Raises
    ------
    InputError
        With every problem's row, column and reason, when any row is invalid.
    """
    path = Path(path)
    table = read_table(
        path,
        score=_score_units_header,
        search_rows=search_rows,
    )
    cols: dict[str, str] = {}
    for h in table.headers:
        fld = _UNIT_LOOKUP.get(header_key(h))
        if fld and fld not in cols:
            cols[fld] = h
    missing = [
        f"{UNIT_COLUMNS[f][0]}/{UNIT_COLUMNS[f][1]}"
        for f in ("code", "name", "level")
        if f not in cols
    ]
    if missing:
        raise InputError(
            f"区划表缺少必需的列：{'、'.join(missing)}"
            "（应有 code,name,level,parent_code,parent_name 或 代码/名称/级别/上级代码/上级名称）",
            file=path.name,
            row=table.header_line or None,
        )
    out = UnitsFile(file=path.name)
    problems: list[_Problem] = []
    seen: dict[str, int] = {}
    counties: list[int] = []

    def problem(line: int, fld: str, value: object, reason: str) -> None:
        shown = None if value is None else str(value)
        problems.append(_Problem(path.name, line, cols.get(fld, fld), shown, reason))

    for row in table.rows:
        raw_level = nz.compact(row.values.get(cols["level"]))
        level = _LEVELS.get((raw_level or "").lower())
        if level is None:
            problem(
                row.line,
                "level",
                raw_level,
                "级别应为 county/town/village 或 区县/镇街/村社",
            )
            continue
        code = _unit_code(row.values.get(cols["code"]), level=level)
        name = nz.compact(row.values.get(cols["name"]))
        if code is None:
            problem(row.line, "code", None, "代码为空")
            continue
        if (why := _check_code(code, level=level, district=district)) is not None:
            problem(row.line, "code", code, why)
            continue
        if not name:
            problem(row.line, "name", None, f"代码 {code} 缺少名称")
            continue
        if code in seen:
            problem(row.line, "code", code, f"代码与第 {seen[code]} 行重复；每个代码只能出现一次")
            continue
        seen[code] = row.line
        if level == LEVEL_COUNTY:
            counties.append(row.line)
            out.county_name = name
            continue
        if level == LEVEL_TOWN:
            out.towns.append(UnitRow(path.name, row.line, code, name))
            continue
        parent = (
            _unit_code(row.values.get(cols["parent_code"]), level=LEVEL_TOWN)
            if "parent_code" in cols
            else None
        )
        if parent is not None and parent != code[:TOWN_CODE_LEN]:
            problem(
                row.line,
                "parent_code",
                parent,
                f"上级代码与村社代码 {code} 的前 9 位 {code[:TOWN_CODE_LEN]} 不一致",
            )
            continue
        out.villages.append(UnitRow(path.name, row.line, code, name, code[:TOWN_CODE_LEN]))
    if len(counties) > 1:
        problems.append(
            _Problem(
                path.name,
                counties[1],
                cols["level"],
                None,
                f"区划表只能有一个区县行（第 {counties[0]} 行已是区县）",
            )
        )
    if not table.rows:
        problems.append(_Problem(path.name, None, None, None, "区划表没有数据行"))
    if problems:
        _fail(problems)
    return out


def _in_china(lon: float, lat: float) -> bool:
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def read_village_file(
    path: Path | str,
    *,
    district: str,
    crs: str = "wgs84",
    geometry: bool = True,
    search_rows: int = 15,
) -> VillagesFile:
    """Read a villages file of ``district`` (the same columns as ``import villages``).

    Parameters
    ----------
    path
        GeoJSON/GeoPackage/Shapefile (points or polygons; projected CRSs are
        reprojected) or CSV/XLSX with 经度/纬度 columns. Needs a village code
        (村社代码, 12 digits) and a name per row; the town code (镇街代码) and/or
        the town name (镇街) are optional; the town is the code's first 9 digits.
    district
        The 6-digit district code every village must belong to.
    crs
        ``wgs84``, ``gcj02`` or ``bd09``: the system of the lon/lat columns and
        geometries; stored values are WGS-84.
    geometry
        False: read codes and names only.

    Raises
    ------
    InputError
        With every problem's row, column and reason, when any row is invalid.
    """
    import shapely
    from shapely.geometry import mapping

    path = Path(path)
    crs_name = geocrs.parse_crs(crs)
    table: RawTable = read_table(
        path, score=partial(score_header, "villages"), search_rows=search_rows
    )
    cmap = map_columns("villages", table.headers)
    missing = [f for f in ("code", "name") if f not in cmap.fields]
    if missing:
        labels = {"code": "村社代码（12 位统计用区划代码）", "name": "村社名称"}
        raise InputError(
            f"村社文件缺少必需的列：{'、'.join(labels[f] for f in missing)}（列名对照见 README）",
            file=path.name,
            row=table.header_line or None,
        )
    out = VillagesFile(file=path.name)
    problems: list[_Problem] = []
    seen: dict[str, int] = {}

    def raw(row: Any, fld: str) -> Any:
        col = cmap.fields.get(fld)
        return row.values.get(col) if col else None

    def problem(line: int, fld: str | None, value: object, reason: str) -> None:
        col = cmap.fields.get(fld, fld) if fld else None
        shown = None if value is None else str(value)
        problems.append(_Problem(path.name, line, col, shown, reason))

    for row in table.rows:
        code = nz.compact(raw(row, "code"))
        name = nz.compact(raw(row, "name"))
        if code is None:
            problem(row.line, "code", None, "缺少村社代码（init 需要 12 位统计用区划代码）")
            continue
        if (why := _check_code(code, level=LEVEL_VILLAGE, district=district)) is not None:
            problem(row.line, "code", code, why)
            continue
        if not name:
            problem(row.line, "name", None, f"村社 {code} 缺少名称")
            continue
        if code in seen:
            problem(row.line, "code", code, f"村社代码与第 {seen[code]} 行重复")
            continue
        town = code[:TOWN_CODE_LEN]
        given_town = _unit_code(raw(row, "town_code"), level=LEVEL_TOWN)
        if given_town is not None and given_town != town:
            problem(
                row.line,
                "town_code",
                given_town,
                f"镇街代码与村社代码 {code} 的前 9 位 {town} 不一致",
            )
            continue
        seen[code] = row.line
        town_name = nz.compact(raw(row, "town"))
        if town_name and town not in out.town_names:
            out.town_names[town] = town_name
        out.town_lines.setdefault(town, row.line)
        out.villages.append(UnitRow(path.name, row.line, code, name, town))
        if aliases := nz.split_aliases(raw(row, "aliases")):
            out.aliases[code] = tuple(aliases)
        if not geometry:
            continue
        try:
            lon = nz.parse_float(raw(row, "lon"), what="经度")
            lat = nz.parse_float(raw(row, "lat"), what="纬度")
        except ValueError as exc:
            problem(row.line, "lon", raw(row, "lon") or raw(row, "lat"), str(exc))
            continue
        geom = row.geometry
        kind = getattr(geom, "geom_type", None)
        if kind == "Point":
            lon, lat = float(geom.x), float(geom.y)
        elif geom is not None and kind not in ("Polygon", "MultiPolygon"):
            problem(row.line, None, kind, "村社几何应为点或面（Polygon/MultiPolygon）")
            continue
        if (lon is None) != (lat is None):
            problem(row.line, "lon" if lon is None else "lat", None, "经度与纬度要同时填写")
            continue
        point: tuple[float, float] | None = None
        if lon is not None and lat is not None:
            if not _in_china(lon, lat):
                problem(row.line, "lon", f"{lon},{lat}", "坐标不在中国境内（经纬度是否写反？）")
                continue
            x, y = geocrs.to_wgs84(lon, lat, crs=crs_name)
            point = (round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS))
        polygon = None
        if kind in ("Polygon", "MultiPolygon"):
            shape = geocrs.geometry_to_wgs84(geom, crs=crs_name)
            if not shape.is_valid:
                shape = shapely.make_valid(shape)
            rp = shape.representative_point()
            if not _in_china(rp.x, rp.y):
                problem(row.line, None, None, "边界不在中国境内（坐标系或经纬度顺序是否有误？）")
                continue
            shape = shapely.set_precision(shape, POLYGON_PRECISION_DEG)
            polygon = json.dumps(mapping(shape), ensure_ascii=False)
            if point is None:
                point = (round(rp.x, COORD_DIGITS), round(rp.y, COORD_DIGITS))
        if point is not None or polygon is not None:
            out.geometry[code] = VillageGeometry(
                lon=point[0] if point else None, lat=point[1] if point else None, polygon=polygon
            )
    if not table.rows:
        problems.append(_Problem(path.name, None, None, None, "村社文件没有数据行"))
    if problems:
        _fail(problems)
    return out


# --------------------------------------------------------------------- the store


@dataclass(frozen=True)
class _Stored:
    """What an existing store already holds (read without writing)."""

    code: str | None
    name: str | None
    gazetteer: Gazetteer | None
    has_office: bool


def _read_stored(url: str) -> _Stored | None:
    """The district already in the store at ``url``; None for a new SQLite file.

    Reads only: no migration, no file created, nothing written.
    """
    store = Store(url)
    try:
        if store.sqlite_path is not None and not store.sqlite_path.exists():
            return None
        try:
            if not inspect(store.engine).has_table(t.Meta.__tablename__):
                return _Stored(None, None, None, False)
            meta = store.meta()
            code, name = meta.get(META_CODE), meta.get(META_NAME)
            gaz = None
            if code and name:
                with store.read() as s:
                    has_villages = s.scalar(select(t.Village.code).limit(1)) is not None
                gaz = store.gazetteer() if has_villages else None
            return _Stored(code, name, gaz, META_OFFICE in meta)
        except DBAPIError as exc:
            detail = redact_url(str(exc.orig).strip(), url)
            raise StoreError(
                f"无法打开或升级数据库 {display_url(url)}：{detail}；"
                "请确认数据库服务已启动，地址、端口与账号无误"
            ) from None
    finally:
        store.dispose()


# --------------------------------------------------------------------- init


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
        return {
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


def _parse_district(code: str) -> str:
    text = nz.compact(code) or ""
    if not (text.isdigit() and len(text) == DISTRICT_CODE_LEN):
        raise InputError(
            f"--district「{code}」应为 6 位区县代码（统计用区划代码前 6 位，如 330213）"
        )
    return text


def _merge(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for g in groups for v in g if v))


def init_district(
    url: str | None = None,
    *,
    district: str,
    units: Path | str | None = None,
    villages: Path | str | None = None,
    crs: str = "wgs84",
    name: str | None = None,
    parents: Sequence[str] | None = None,
    former_codes: Sequence[str] = (),
    aliases: Sequence[str] = (),
    office: tuple[float, float] | None = None,
    office_name: str | None = None,
    geometry: bool = True,
    search_rows: int = 15,
) -> InitResult:
    """Set up (or add to) the store of ``district``.

    Parameters
    ----------
    url
        Store URL (default: the settings' store).
    district
        6-digit district code.
    units, villages
        An admin-units table and/or a villages file (see :func:`read_units`,
        :func:`read_village_file`). With neither, the packaged reference list
        of ``district`` (if any); on a store of the same district, files are
        optional (the call then updates the metadata only).
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
        A file or option is invalid (every problem with file, row, column).
    StoreError
        The store holds another district (nothing written), or cannot be opened.
    """
    from planner.settings import get_settings

    code = _parse_district(district)
    crs_name = geocrs.parse_crs(crs)
    for former in former_codes:
        if not (former.isdigit() and len(former) == DISTRICT_CODE_LEN) or former == code:
            raise InputError(
                f"--former-codes「{former}」应为另一个 6 位区县代码（撤县设区前的代码，如 330283）"
            )
    office_wgs: tuple[float, float] | None = None
    if office is not None:
        if not _in_china(*office):
            raise InputError(
                f"--office「{office[0]},{office[1]}」不在中国境内；"
                "应为 经度,纬度（如 121.40,29.66）"
            )
        x, y = geocrs.to_wgs84(office[0], office[1], crs=crs_name)
        office_wgs = (round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS))

    # 1. read and validate the files (nothing touches the store yet)
    units_file = read_units(units, district=code, search_rows=search_rows) if units else None
    villages_file = (
        read_village_file(
            villages, district=code, crs=crs_name, geometry=geometry, search_rows=search_rows
        )
        if villages
        else None
    )

    # 2. what the store holds: another district is refused before any write
    store_url = url or get_settings().store_url
    stored = _read_stored(store_url)
    if stored is not None and stored.code and stored.code != code:
        raise StoreError(
            f"数据库 {display_url(store_url)} 已是 {stored.name}（{stored.code}）的数据库，"
            f"不能再初始化为区县 {code}；数据库未做任何更改。"
            "请用 --db 指定另一个数据库（一个数据库只放一个区县）。"
        )
    previous = stored.gazetteer if stored is not None else None
    ref: ReferenceDistrict | None = reference_district(code)
    sources: list[str] = []
    base: Gazetteer | None = None
    if units_file is None and villages_file is None:
        if ref is not None:
            base = load_reference(code)  # adds what the store lacks, renames nothing
            sources.append(f"内置区划（{ref.units}）")
        elif previous is None:
            load_reference(code)  # raises: no packaged list, say what to give
        else:
            sources.append("数据库中已有的区划")
    if units_file:
        sources.append(units_file.file)
    if villages_file:
        sources.append(villages_file.file)

    # 3. the merged gazetteer: reference < stored < villages file < units file
    towns: dict[str, Town] = {}
    vills: dict[str, Village] = {}
    for gaz in (base, previous):
        if gaz is not None:
            towns.update({tw.code: tw for tw in gaz.towns})
            vills.update({v.code: v for v in gaz.villages})
    problems: list[_Problem] = []
    named = {tw.code for tw in towns.values()}
    if units_file:
        for row in units_file.towns:
            old = towns.get(row.code)
            towns[row.code] = Town(code=row.code, name=row.name, aliases=old.aliases if old else ())
        named |= {row.code for row in units_file.towns}
    if villages_file:
        for town_code, line in villages_file.town_lines.items():
            if town_code in named:
                continue
            town_name = villages_file.town_names.get(town_code)
            if town_name is None:
                problems.append(
                    _Problem(
                        villages_file.file,
                        line,
                        None,
                        town_code,
                        f"镇街 {town_code} 没有名称：请在村社文件中加镇街列"
                        "（如 镇街、乡镇（街道）），或用 --units 区划表提供镇街",
                    )
                )
                continue
            towns[town_code] = Town(code=town_code, name=town_name)
        for row in villages_file.villages:
            old_v = vills.get(row.code)
            point = villages_file.geometry.get(row.code)
            vills[row.code] = Village(
                code=row.code,
                name=row.name,
                town_code=row.code[:TOWN_CODE_LEN],
                aliases=_merge(
                    old_v.aliases if old_v else (), villages_file.aliases.get(row.code, ())
                ),
                lon=point.lon if point else None,
                lat=point.lat if point else None,
            )
    if units_file:
        for row in units_file.villages:
            if row.town_code not in towns:
                problems.append(
                    _Problem(
                        units_file.file,
                        row.line,
                        None,
                        row.code,
                        f"村社所属镇街 {row.town_code} 不在区划表中，数据库中也没有；"
                        "请先列出该镇街",
                    )
                )
                continue
            old_v = vills.get(row.code)
            vills[row.code] = (
                Village(code=row.code, name=row.name, town_code=row.town_code)
                if old_v is None
                else Village(
                    code=row.code,
                    name=row.name,
                    town_code=row.town_code,
                    aliases=old_v.aliases,
                    lon=old_v.lon,
                    lat=old_v.lat,
                )
            )
    if problems:
        _fail(problems)
    if not vills:
        raise InputError(
            "没有任何村社：区划表需要村社行（级别 village/村社），或用 --villages 提供村社文件"
        )
    district_name = (
        name
        or (units_file.county_name if units_file else None)
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
        district_code=code,
        district_name=district_name,
        towns=tuple(towns[c] for c in sorted(towns)),
        villages=tuple(vills[c] for c in sorted(vills)),
        former_codes=_merge(
            previous.former_codes if previous else (),
            ref.former_codes if ref else (),
            former_codes,
        ),
        district_aliases=_merge(
            previous.district_aliases if previous else (), ref.aliases if ref else (), aliases
        ),
        parents=tuple(parents) if parents is not None else prev_parents,
    )
    new_office: Place | None = None
    if office_wgs is not None:
        new_office = Place(
            name=office_name or f"{district_name}残联", lon=office_wgs[0], lat=office_wgs[1]
        )
    elif office_name is not None:
        raise InputError("--office-name 需要与 --office 经度,纬度 一起使用")
    elif ref is not None and ref.office is not None and not (stored and stored.has_office):
        new_office = ref.office

    polygons = (
        {c: g.polygon for c, g in villages_file.geometry.items() if g.polygon}
        if villages_file
        else {}
    )
    kept = 0
    warnings: list[str] = []
    if villages_file and previous is not None:
        had = {v.code for v in previous.villages if v.has_point}
        kept = sum(1 for c in villages_file.geometry if c in had)
    if units_file and villages_file:
        listed = {r.code for r in units_file.villages}
        extra = [r.code for r in villages_file.villages if r.code not in listed]
        if extra:
            warnings.append(
                f"村社文件中有 {len(extra)} 个村社不在区划表中（如 {extra[0]}），已按村社文件加入"
            )
    detail: dict[str, Any] = {
        "files": {
            Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest()
            for p in (units, villages)
            if p
        },
        "crs": crs_name,
    }

    # 4. write, in one transaction; a new SQLite file that fails is removed again
    created = stored is None or stored.gazetteer is None
    probe = Store(store_url)
    new_file = probe.sqlite_path if stored is None else None
    probe.dispose()
    made_dirs: list[Path] = []
    if new_file is not None:
        d = new_file.parent
        while not d.exists():
            made_dirs.append(d)
            d = d.parent
    store: Store | None = None
    try:
        store = open_store(store_url, create=True)
        changes = store.load_gazetteer(
            gazetteer, source=INIT_SOURCE, office=new_office, polygons=polygons, detail=detail
        )
        final = store.gazetteer()
        office_now = store.district_office()
        without = sum(1 for v in final.villages if not v.has_point)
    except BaseException:
        if store is not None:
            store.dispose()
        if new_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{new_file}{suffix}").unlink(missing_ok=True)
            for d in made_dirs:
                if d.exists() and not any(d.iterdir()):
                    d.rmdir()
        raise
    store.dispose()
    return InitResult(
        db=display_url(store_url),
        created=created,
        district_code=code,
        district_name=district_name,
        towns=len(final.towns),
        villages=len(final.villages),
        changes=changes,
        geometry_kept=kept,
        without_geometry=without,
        office=office_now,
        sources=tuple(sources),
        warnings=tuple(warnings),
    )
