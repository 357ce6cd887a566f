"""Villages and facilities: geo formats, coordinate systems, aliases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box, shape
from sqlalchemy import select

from geo.crs import from_wgs84, gcj02_to_wgs84
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from tests.actions import import_file
from tests.factories import make_id

WULING = "330213100001"  # 溪口镇 武岭社区
JISHAN = "330213100003"  # 溪口镇 畸山居委会
CELLS = {WULING: box(121.23, 29.66, 121.25, 29.68), JISHAN: box(121.25, 29.66, 121.27, 29.68)}


def villages_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": list(CELLS), "name": ["武岭社区", "畸山居委会"], "aliases": ["下王村;旧武岭", ""]},
        geometry=list(CELLS.values()),
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(("suffix", "crs"), [(".geojson", 4326), (".gpkg", 4326), (".shp", 4549)])
def test_village_polygons_in_any_format(
    store: Store, config: Config, tmp_path: Path, suffix: str, crs: int
) -> None:
    path = tmp_path / f"villages{suffix}"
    villages_frame().to_crs(crs).to_file(path)
    res = import_file(store, "villages", path, config=config)
    assert (res.rows, res.stored, res.updated, res.rejected) == (2, 2, 2, 0)
    with store.read() as s:
        v = s.get(t.Village, WULING)
        assert v is not None and v.polygon is not None
        poly = shape(json.loads(v.polygon))
        assert poly.symmetric_difference(CELLS[WULING]).area < 1e-9  # reprojected back
        assert (
            v.lon is not None
            and v.lat is not None
            and poly.contains(shape({"type": "Point", "coordinates": (v.lon, v.lat)}))
        )
        assert v.aliases == ["下王村", "旧武岭"]
    again = import_file(store, "villages", path, config=config)
    assert (again.unchanged, again.updated) == (2, 0)


def test_village_polygons_in_gcj02_are_converted(
    store: Store, config: Config, tmp_path: Path
) -> None:
    frame = villages_frame()
    frame.geometry = frame.geometry.apply(
        lambda g: Polygon(
            [tuple(float(c) for c in from_wgs84(x, y, crs="gcj02")) for x, y in g.exterior.coords]
        )
    )
    path = tmp_path / "v.geojson"
    frame.to_file(path)
    import_file(store, "villages", path, config=config, crs="gcj02")
    with store.read() as s:
        v = s.get(t.Village, WULING)
        assert v is not None and v.polygon is not None
        assert shape(json.loads(v.polygon)).symmetric_difference(CELLS[WULING]).area < 1e-9


def test_aliases_are_used_by_later_imports(store: Store, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "v.geojson"
    villages_frame().to_file(path)
    import_file(store, "villages", path, config=config)
    reg = tmp_path / "r.csv"
    reg.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        f"甲,{make_id(date(1950, 1, 1), 1)},肢体,一级,溪口镇,下王村\n",
        encoding="utf-8",
    )
    res = import_file(store, "residents", reg, config=config)
    assert res.needs_review == 0
    with store.read() as s:
        assert s.scalar(select(t.Resident.village_code)) == WULING


def test_unknown_town_in_village_code_is_rejected(
    store: Store, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        "村社代码,村社名称,经度,纬度\n330213999001,新村,121.3,29.6\n"
        "330213100001,武岭社区,121.24,29.67\n",
        encoding="utf-8",
    )
    res = import_file(store, "villages", path, config=config)
    assert (res.stored, res.rejected) == (1, 1)
    assert "330213999" in res.problems[0].reason


def test_facilities_in_gcj02(store: Store, config: Config, tmp_path: Path) -> None:
    glon, glat = (float(c) for c in from_wgs84(121.24, 29.67, crs="gcj02"))
    path = tmp_path / "f.csv"
    path.write_text(
        "设施编号,设施名称,设施类型,镇街,村社,容量,在册人数,星级,经度,纬度\n"
        f"F1,溪口镇残疾人之家,残疾人之家,溪口镇,武岭社区,40,35,三星,{glon},{glat}\n"
        f"F2,某设施,养老院,溪口镇,武岭社区,10,,,{glon},{glat}\n",
        encoding="utf-8-sig",
    )
    res = import_file(store, "facilities", path, config=config, crs="gcj02")
    assert (res.stored, res.rejected) == (1, 1)
    assert "设施类型" in res.problems[0].reason
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    with store.read() as s:
        f = s.scalars(select(t.Facility)).one()
    assert f.type == "home" and f.village_code == WULING and f.capacity == 40 and f.placed == 35
    assert f.lon == pytest.approx(float(wlon), abs=1e-6) and f.lat == pytest.approx(
        float(wlat), abs=1e-6
    )
    assert f.lon == pytest.approx(121.24, abs=1e-6)
    assert f.attributes["星级"] == "三星"


def test_facility_village_from_its_point(store: Store, config: Config, tmp_path: Path) -> None:
    vpath = tmp_path / "v.geojson"
    villages_frame().to_file(vpath)
    import_file(store, "villages", vpath, config=config)
    path = tmp_path / "f.csv"
    path.write_text(
        "设施名称,设施类型,经度,纬度\n畸山助残窗口,助残窗口,121.26,29.67\n"
        "海上站,助残窗口,122.9,29.0\n",
        encoding="utf-8",
    )
    res = import_file(store, "facilities", path, config=config)
    assert (res.stored, res.needs_review) == (2, 1)
    with store.read() as s:
        by_name = {f.name: f for f in s.scalars(select(t.Facility))}
    assert by_name["畸山助残窗口"].village_code == JISHAN
    assert by_name["海上站"].village_code is None and by_name["海上站"].needs_review


def test_facility_points_from_geojson_in_gcj02(
    store: Store, config: Config, tmp_path: Path
) -> None:
    from shapely.geometry import Point

    glon, glat = (float(c) for c in from_wgs84(121.26, 29.67, crs="gcj02"))
    frame = gpd.GeoDataFrame(
        {"name": ["畸山辅具服务点"], "type": ["辅具服务点"]}, geometry=[Point(glon, glat)], crs=4326
    )
    path = tmp_path / "f.geojson"
    frame.to_file(path)
    res = import_file(store, "facilities", path, config=config, crs="gcj02")
    assert (res.stored, res.rejected) == (1, 0)
    with store.read() as s:
        f = s.scalars(select(t.Facility)).one()
    assert f.lon == pytest.approx(121.26, abs=1e-6) and f.lat == pytest.approx(29.67, abs=1e-6)
