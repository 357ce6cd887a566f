import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.crs import from_wgs84, gcj02_to_wgs84, parse_crs, to_wgs84, wgs84_to_gcj02
from geo.errors import CRSError

lons = st.floats(min_value=100.0, max_value=125.0)
lats = st.floats(min_value=20.0, max_value=45.0)
METRES_PER_DEGREE = 111_320.0


def test_gcj02_offset_in_fenghua_is_hundreds_of_metres() -> None:
    lon, lat = 121.406, 29.655
    glon, glat = wgs84_to_gcj02(lon, lat)
    dx = (float(glon) - lon) * METRES_PER_DEGREE * np.cos(np.radians(lat))
    dy = (float(glat) - lat) * METRES_PER_DEGREE
    assert 300 < np.hypot(dx, dy) < 700


@given(lons, lats)
def test_agrees_with_an_independent_implementation(lon: float, lat: float) -> None:
    prcoords = pytest.importorskip("prcoords")
    ref = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert float(glon) == pytest.approx(ref.lon, abs=1e-9)
    assert float(glat) == pytest.approx(ref.lat, abs=1e-9)
    bref = prcoords.gcj_bd(ref)
    blon, blat = from_wgs84(lon, lat, crs="bd09")
    assert float(blon) == pytest.approx(bref.lon, abs=1e-9)
    assert float(blat) == pytest.approx(bref.lat, abs=1e-9)


@given(lons, lats)
def test_gcj02_round_trip_below_a_millimetre(lon: float, lat: float) -> None:
    wlon, wlat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(float(wlon) - lon) < 1e-8 and abs(float(wlat) - lat) < 1e-8


@given(lons, lats)
def test_bd09_round_trip_below_a_millimetre(lon: float, lat: float) -> None:
    back = to_wgs84(*from_wgs84(lon, lat, crs="bd09"), crs="bd09")
    assert abs(float(back[0]) - lon) < 1e-8 and abs(float(back[1]) - lat) < 1e-8


def test_outside_china_is_not_shifted() -> None:
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (float(lon), float(lat)) == (2.35, 48.85)


def test_vectorised() -> None:
    lon, lat = wgs84_to_gcj02(np.array([121.4, 121.5]), np.array([29.6, 29.7]))
    assert lon.shape == (2,) and lat.shape == (2,)


@pytest.mark.parametrize(
    ("name", "key"), [("WGS-84", "wgs84"), ("高德", "gcj02"), ("BD09", "bd09")]
)
def test_parse_crs(name: str, key: str) -> None:
    assert parse_crs(name) == key


def test_unknown_crs_names_the_choices() -> None:
    with pytest.raises(CRSError, match="gcj02"):
        parse_crs("mercator")
