"""The village gazetteer: a district's towns (镇/街道) and villages (村/社区/生活区).

A :class:`Gazetteer` is an immutable, validated list of a district's towns and
villages with their 统计用区划代码 (9-digit town codes, 12-digit village codes),
optional spelling aliases and optional village points. :func:`load_reference`
returns the packaged real list of a reference district listed in
``data/reference/districts.toml`` (:func:`load_fenghua`: 奉化区, 2023 codes, no
coordinates); the entries themselves are read in :mod:`geo._reference`.

Name helpers (defined in :mod:`geo._names`, re-exported here): :func:`core_name`
strips the committee suffix ("岩头村委会" -> "岩头"), :func:`village_kind`
classifies a name as village, community or living area, and
:func:`town_variants` lists the spellings of a town name that old registers use
(尚田街道 / 尚田镇 / 尚田乡 / 尚田).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from geo._names import (
    COMMUNITY,
    LIVING_AREA,
    MIN_STEM_LEN,
    VILLAGE,
    core_name,
    district_variants,
    town_stem,
    town_variants,
    village_kind,
)
from geo._reference import (
    PACKAGE,
    Place,
    ReferenceDistrict,
    reference_district,
    reference_districts,
)
from geo.errors import GazetteerError

__all__ = [
    "COMMUNITY",
    "LIVING_AREA",
    "VILLAGE",
    "Gazetteer",
    "Place",
    "ReferenceDistrict",
    "Town",
    "Village",
    "core_name",
    "load_fenghua",
    "load_reference",
    "reference_district",
    "reference_districts",
    "town_stem",
    "town_variants",
    "village_kind",
]

DISTRICT_CODE_LEN = 6
TOWN_CODE_LEN = 9
VILLAGE_CODE_LEN = 12

_FENGHUA_CODE = "330213"

_LEVEL_COUNTY = "county"
_LEVEL_TOWN = "town"
_LEVEL_VILLAGE = "village"
_ALIAS_SEPARATORS = (";", "；", "、", "|")


@dataclass(frozen=True)
class Town:
    """A town or sub-district (镇/街道/乡).

    Attributes
    ----------
    code
        9-digit 统计用区划代码, e.g. ``"330213007"``.
    name
        Current official name, e.g. ``"尚田街道"``.
    aliases
        Extra spellings; the X镇/X街道/X乡 forms and the bare stem are derived
        automatically and need not be listed.
    """

    code: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        """The name without 街道/镇/乡."""
        return town_stem(self.name)

    @property
    def spellings(self) -> tuple[str, ...]:
        """All full spellings: the name, its old forms and the aliases' forms."""
        out: list[str] = []
        for name in (self.name, *self.aliases):
            out += town_variants(name)
        return tuple(dict.fromkeys(out))

    @property
    def stems(self) -> tuple[str, ...]:
        """Bare stems of the name and the aliases (at least two characters)."""
        out = [town_stem(n) for n in (self.name, *self.aliases)]
        return tuple(dict.fromkeys(s for s in out if len(s) >= MIN_STEM_LEN))


@dataclass(frozen=True)
class Village:
    """A village committee (村委会), community (社区/居委会) or living area (生活区).

    Attributes
    ----------
    code
        12-digit 统计用区划代码.
    name
        Official name, e.g. ``"岩头村委会"``, ``"长岭社区"``, ``"三溪农场生活区"``.
    town_code
        Code of the town it belongs to.
    aliases
        Other names: pre-merger village names (村规模调整), user-added spellings.
    lon, lat
        WGS-84 point of the village committee, when known.
    """

    code: str
    name: str
    town_code: str
    aliases: tuple[str, ...] = ()
    lon: float | None = None
    lat: float | None = None

    @property
    def core(self) -> str:
        """The name without its committee suffix (see :func:`core_name`)."""
        return core_name(self.name)

    @property
    def kind(self) -> str:
        """``"village"``, ``"community"`` or ``"living_area"``."""
        return village_kind(self.name)

    @property
    def has_point(self) -> bool:
        """Whether the village has coordinates."""
        return self.lon is not None and self.lat is not None


def _clean_aliases(values: Iterable[str], *, exclude: str) -> tuple[str, ...]:
    out = (v.strip() for v in values)
    return tuple(dict.fromkeys(v for v in out if v and v != exclude))


def _split_aliases(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return ()
    if isinstance(value, str):
        text = value
        for sep in _ALIAS_SEPARATORS[1:]:
            text = text.replace(sep, _ALIAS_SEPARATORS[0])
        return tuple(p.strip() for p in text.split(_ALIAS_SEPARATORS[0]) if p.strip())
    return tuple(str(v).strip() for v in value if str(v).strip())


def _optional_float(value: Any, *, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise GazetteerError(f"{what}「{value}」不是数字；请填写经纬度数值或留空。") from exc
    return None if number != number else number  # NaN -> None


def _town_from(record: Town | Mapping[str, Any]) -> Town:
    if isinstance(record, Town):
        return record
    try:
        code, name = str(record["code"]).strip(), str(record["name"]).strip()
    except KeyError as exc:
        raise GazetteerError(f"镇街记录缺少字段 {exc}；每条记录需要 code 与 name。") from exc
    return Town(code=code, name=name, aliases=_split_aliases(record.get("aliases")))


def _village_from(record: Village | Mapping[str, Any]) -> Village:
    if isinstance(record, Village):
        return record
    town_code = record.get("town_code", record.get("parent_code"))
    try:
        code, name = str(record["code"]).strip(), str(record["name"]).strip()
    except KeyError as exc:
        raise GazetteerError(
            f"村社记录缺少字段 {exc}；每条记录需要 code、name 与 town_code。"
        ) from exc
    if town_code is None:
        raise GazetteerError(f"村社「{name}」（{code}）缺少所属镇街代码 town_code。")
    return Village(
        code=code,
        name=name,
        town_code=str(town_code).strip(),
        aliases=_split_aliases(record.get("aliases")),
        lon=_optional_float(record.get("lon"), what=f"村社「{name}」的经度"),
        lat=_optional_float(record.get("lat"), what=f"村社「{name}」的纬度"),
    )


@dataclass(frozen=True)
class Gazetteer:
    """A district's towns and villages, validated and indexed by code.

    Attributes
    ----------
    district_code, district_name
        6-digit code and name of the district, e.g. ``"330213"``, ``"奉化区"``.
    towns, villages
        The towns and villages, in list order.
    former_codes
        Earlier district codes still found in old registers (``"330283"``, the
        code of 奉化市 before 2016). Village codes with such a prefix are read
        as the current code with the same last six digits.
    district_aliases
        Other names of the district (``"奉化市"``); 区/市/县 forms are derived.
    parents
        Names of the enclosing units, outermost first (``"浙江省"``, ``"宁波市"``).

    Raises
    ------
    GazetteerError
        When codes are malformed or duplicated, or a village names an unknown town.
    """

    district_code: str
    district_name: str
    towns: tuple[Town, ...]
    villages: tuple[Village, ...]
    former_codes: tuple[str, ...] = ()
    district_aliases: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    _town_index: dict[str, Town] = field(init=False, repr=False, compare=False)
    _village_index: dict[str, Village] = field(init=False, repr=False, compare=False)
    _by_town: dict[str, tuple[Village, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        code = self.district_code
        if len(code) != DISTRICT_CODE_LEN or not code.isdigit():
            raise GazetteerError(f"区县代码「{code}」应为 6 位数字（如 330213）。")
        for former in self.former_codes:
            if len(former) != DISTRICT_CODE_LEN or not former.isdigit():
                raise GazetteerError(f"旧区县代码「{former}」应为 6 位数字（如 330283）。")
        towns: dict[str, Town] = {}
        for town in self.towns:
            if len(town.code) != TOWN_CODE_LEN or not town.code.isdigit():
                raise GazetteerError(
                    f"镇街「{town.name}」的代码「{town.code}」应为 9 位数字（统计用区划代码）。"
                )
            if not town.code.startswith(code):
                raise GazetteerError(
                    f"镇街「{town.name}」的代码「{town.code}」不以区县代码 {code} 开头；"
                    "请检查是否混入了其他区县的数据。"
                )
            if town.code in towns:
                raise GazetteerError(
                    f"镇街代码「{town.code}」重复（「{towns[town.code].name}」与"
                    f"「{town.name}」）；每个代码只能出现一次。"
                )
            if not town.name.strip():
                raise GazetteerError(f"镇街代码「{town.code}」缺少名称。")
            towns[town.code] = town
        villages: dict[str, Village] = {}
        by_town: dict[str, list[Village]] = {c: [] for c in towns}
        for village in self.villages:
            if len(village.code) != VILLAGE_CODE_LEN or not village.code.isdigit():
                raise GazetteerError(
                    f"村社「{village.name}」的代码「{village.code}」"
                    "应为 12 位数字（统计用区划代码）。"
                )
            if village.town_code not in towns:
                raise GazetteerError(
                    f"村社「{village.name}」（{village.code}）所属镇街代码「{village.town_code}」"
                    "不在镇街名录中；请先添加该镇街或更正代码。"
                )
            if not village.code.startswith(village.town_code):
                raise GazetteerError(
                    f"村社「{village.name}」的代码「{village.code}」与所属镇街代码"
                    f"「{village.town_code}」不一致（村社代码应以镇街代码开头）。"
                )
            if village.code in villages:
                raise GazetteerError(
                    f"村社代码「{village.code}」重复（「{villages[village.code].name}」与"
                    f"「{village.name}」）；每个代码只能出现一次。"
                )
            if not village.name.strip():
                raise GazetteerError(f"村社代码「{village.code}」缺少名称。")
            villages[village.code] = village
            by_town[village.town_code].append(village)
        object.__setattr__(self, "_town_index", towns)
        object.__setattr__(self, "_village_index", villages)
        object.__setattr__(self, "_by_town", {c: tuple(vs) for c, vs in by_town.items()})

    @classmethod
    def from_records(
        cls,
        *,
        district_code: str,
        district_name: str,
        towns: Iterable[Town | Mapping[str, Any]],
        villages: Iterable[Village | Mapping[str, Any]],
        former_codes: Iterable[str] | None = None,
        district_aliases: Iterable[str] | None = None,
        parents: Iterable[str] | None = None,
    ) -> Gazetteer:
        """Build a gazetteer from :class:`Town`/:class:`Village` objects or mappings.

        Mappings use the keys ``code``, ``name``, ``aliases`` (a sequence or a
        string separated by ``;``/``、``) and, for villages, ``town_code`` (or
        ``parent_code``), ``lon``, ``lat``. ``former_codes``, ``district_aliases``
        and ``parents`` default to none: nothing about a district is assumed
        from its code (see :func:`load_reference` for the packaged districts).

        Raises
        ------
        GazetteerError
            When a record lacks a field or the list is inconsistent.
        """
        return cls(
            district_code=str(district_code).strip(),
            district_name=str(district_name).strip(),
            towns=tuple(_town_from(t) for t in towns),
            villages=tuple(_village_from(v) for v in villages),
            former_codes=tuple(former_codes or ()),
            district_aliases=tuple(district_aliases or ()),
            parents=tuple(parents or ()),
        )

    def town(self, code: str) -> Town:
        """The town with this 9-digit code.

        Raises
        ------
        GazetteerError
            When no town has this code.
        """
        try:
            return self._town_index[code]
        except KeyError:
            raise GazetteerError(
                f"未知的镇街代码「{code}」：{self.district_name}的镇街代码为 9 位数字，"
                f"可选值见村社名录（共 {len(self.towns)} 个镇街）。"
            ) from None

    def village(self, code: str) -> Village:
        """The village with this 12-digit code.

        Raises
        ------
        GazetteerError
            When no village has this code.
        """
        try:
            return self._village_index[code]
        except KeyError:
            raise GazetteerError(
                f"未知的村社代码「{code}」：请检查是否为 12 位统计用区划代码，"
                f"或先在{self.district_name}村社名录中添加该村社。"
            ) from None

    def has_town(self, code: str) -> bool:
        """Whether a town has this code."""
        return code in self._town_index

    def has_village(self, code: str) -> bool:
        """Whether a village has this code."""
        return code in self._village_index

    def villages_of(self, town_code: str) -> tuple[Village, ...]:
        """The villages of a town, in list order.

        Raises
        ------
        GazetteerError
            When no town has this code.
        """
        self.town(town_code)
        return self._by_town[town_code]

    def town_of(self, village_code: str) -> Town:
        """The town a village belongs to."""
        return self.town(self.village(village_code).town_code)

    def find_town(self, name: str) -> Town | None:
        """The town named ``name`` in any spelling (尚田镇, 尚田街道, 尚田), or None."""
        text = "".join(name.split())
        for town in self.towns:
            if text in town.spellings or text in town.stems:
                return town
        return None

    @property
    def district_names(self) -> tuple[str, ...]:
        """Spellings of the district: the name, the aliases and their 区/市/县 forms."""
        out: list[str] = []
        for name in (self.district_name, *self.district_aliases):
            out += district_variants(name)
        return tuple(dict.fromkeys(out))

    def with_aliases(self, aliases: Mapping[str, Iterable[str] | str]) -> Gazetteer:
        """A new gazetteer with extra aliases.

        Parameters
        ----------
        aliases
            Maps a 12-digit village code or a 9-digit town code to one alias or
            several (e.g. pre-merger village names). Existing aliases are kept.

        Raises
        ------
        GazetteerError
            When a code is not in the gazetteer.
        """
        extra_towns: dict[str, tuple[str, ...]] = {}
        extra_villages: dict[str, tuple[str, ...]] = {}
        for code, values in aliases.items():
            names = (values,) if isinstance(values, str) else tuple(values)
            if code in self._village_index:
                extra_villages[code] = names
            elif code in self._town_index:
                extra_towns[code] = names
            else:
                raise GazetteerError(
                    f"别名指向的代码「{code}」不在{self.district_name}村社名录中；"
                    "请使用 12 位村社代码或 9 位镇街代码。"
                )
        towns = tuple(
            replace(t, aliases=_clean_aliases((*t.aliases, *extra_towns[t.code]), exclude=t.name))
            if t.code in extra_towns
            else t
            for t in self.towns
        )
        villages = tuple(
            replace(
                v, aliases=_clean_aliases((*v.aliases, *extra_villages[v.code]), exclude=v.name)
            )
            if v.code in extra_villages
            else v
            for v in self.villages
        )
        return replace(self, towns=towns, villages=villages)

    def with_points(self, points: Mapping[str, tuple[float, float]]) -> Gazetteer:
        """A new gazetteer with village points (WGS-84 lon, lat) set or replaced.

        Raises
        ------
        GazetteerError
            When a code is not a village of the gazetteer.
        """
        for code in points:
            self.village(code)
        villages = tuple(
            replace(v, lon=float(points[v.code][0]), lat=float(points[v.code][1]))
            if v.code in points
            else v
            for v in self.villages
        )
        return replace(self, villages=villages)

    def to_frame(self) -> pd.DataFrame:
        """The villages as a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, name, town_code, town_name, kind, core, aliases, lon,
            lat``; aliases are joined by ``;``.
        """
        rows = [
            {
                "code": v.code,
                "name": v.name,
                "town_code": v.town_code,
                "town_name": self._town_index[v.town_code].name,
                "kind": v.kind,
                "core": v.core,
                "aliases": ";".join(v.aliases),
                "lon": v.lon,
                "lat": v.lat,
            }
            for v in self.villages
        ]
        columns = ["code", "name", "town_code", "town_name", "kind", "core", "aliases"]
        frame = pd.DataFrame(rows, columns=[*columns, "lon", "lat"])
        return frame.astype({"lon": "float64", "lat": "float64"})


def _read_admin_units(text: str, *, ref: ReferenceDistrict) -> Gazetteer:
    rows = list(csv.DictReader(io.StringIO(text)))
    counties = [r for r in rows if r["level"] == _LEVEL_COUNTY]
    if len(counties) != 1:
        raise GazetteerError(f"区划表应恰好包含 1 个区县行，实际为 {len(counties)} 个。")
    county = counties[0]
    return Gazetteer.from_records(
        district_code=county["code"],
        district_name=county["name"],
        towns=({"code": r["code"], "name": r["name"]} for r in rows if r["level"] == _LEVEL_TOWN),
        villages=(
            {"code": r["code"], "name": r["name"], "town_code": r["parent_code"]}
            for r in rows
            if r["level"] == _LEVEL_VILLAGE
        ),
        former_codes=ref.former_codes,
        district_aliases=ref.aliases,
        parents=ref.parents,
    )


@lru_cache(maxsize=8)
def load_reference(code: str) -> Gazetteer:
    """The packaged real list of a reference district (no coordinates).

    Parameters
    ----------
    code
        6-digit district code of an entry of ``data/reference/districts.toml``.

    Returns
    -------
    Gazetteer
        Its towns and villages with the former codes, aliases and parents of
        the entry, so that old registers resolve.

    Raises
    ------
    GazetteerError
        When no packaged district has this code.
    """
    ref = reference_district(code)
    if ref is None:
        known = "、".join(f"{c}（{r.name}）" for c, r in reference_districts().items())
        raise GazetteerError(
            f"没有内置区县 {code} 的区划；内置的只有 {known}。"
            "请用 --units（区划表）或 --villages（村社文件）提供镇街与村社。"
        )
    text = resources.files(PACKAGE).joinpath(ref.units).read_text(encoding="utf-8")
    return _read_admin_units(text, ref=ref)


def load_fenghua() -> Gazetteer:
    """The packaged real list of 奉化区: 12 towns, 337 villages, no coordinates.

    Source: 国家统计局 统计用区划代码 2023. The former county code 330283 and
    name 奉化市 come from ``districts.toml`` so that old registers resolve.
    A thin wrapper of :func:`load_reference` (cached: always the same object).
    """
    return load_reference(_FENGHUA_CODE)
