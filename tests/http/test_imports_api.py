"""``POST /api/v1/imports/{kind}`` on the small district: the CLI's batch report,
admins only, 413 over the cap and 422 for a file of the wrong kind, nothing stored
by either."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from planner.store import schema as t
from planner.store.core import open_district_store
from tests.http.county_rb import UPLOAD_MAX_MB, CountyApi, county_api

CSV = "text/csv"
VARYING = ("file", "batch_id", "report")  # the upload's name vs the CLI's path; new ids


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    with county_api(tmp_path_factory.mktemp("imports_api")) as a:
        yield a


def _counts(api: CountyApi) -> tuple[int, int]:
    """(import batches, residents) in the store."""
    store = open_district_store(api.db)
    try:
        with store.read() as s:
            batches = s.scalar(select(func.count()).select_from(t.ImportBatch)) or 0
            residents = s.scalar(select(func.count()).select_from(t.Resident)) or 0
            return int(batches), int(residents)
    finally:
        store.dispose()


def _upload(api: CountyApi, kind: str, path: Path, user: str = "admin") -> httpx.Response:
    with path.open("rb") as f:
        return api.client.post(
            f"/api/v1/imports/{kind}",
            files={"file": (path.name, f, CSV)},
            headers=api.as_(user),
        )


def test_import_equals_the_cli_report(api: CountyApi, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _upload(api, "residents", api.files.residents)
    assert r.status_code == 200, r.text
    rep = r.json()
    # the county's 51 residents are in the store already: all unchanged
    assert (rep["rows"], rep["stored"], rep["inserted"], rep["unchanged"], rep["rejected"]) == (
        51,
        51,
        0,
        51,
        0,
    )
    assert rep["file"] == "residents.csv" and rep["problems"] == []
    api.env(monkeypatch)
    cli = api.cli("import", "residents", str(api.files.residents))
    assert {k: v for k, v in rep.items() if k not in (*VARYING, "problems")} == {
        k: v for k, v in cli.items() if k not in VARYING
    }


def test_bad_rows_are_reported_with_row_and_column(api: CountyApi, tmp_path: Path) -> None:
    lines = api.files.residents.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1].split(",")
    id_col = header.split(",").index("公民身份号码")
    first[id_col] = first[id_col][:-1] + ("0" if first[id_col][-1] != "0" else "1")  # bad check
    path = tmp_path / "一行有错.csv"
    path.write_text("\n".join([header, ",".join(first), lines[2]]) + "\n", encoding="utf-8")
    r = _upload(api, "residents", path)
    assert r.status_code == 200, r.text
    rep = r.json()
    # two data rows: the first rejected, the second unchanged
    assert (rep["rows"], rep["stored"], rep["rejected"]) == (2, 1, 1)
    (bad,) = rep["problems"]
    assert (bad["file"], bad["row"], bad["column"], bad["action"]) == (
        "一行有错.csv",
        2,
        "公民身份号码",
        "rejected",
    )


def test_wrong_kind_and_too_large_store_nothing(api: CountyApi, tmp_path: Path) -> None:
    before = _counts(api)
    r = _upload(api, "residents", api.files.facilities)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "facilities" in r.json()["detail"]
    big = tmp_path / "big.csv"
    big.write_bytes(api.files.residents.read_bytes() * (int(UPLOAD_MAX_MB * 2**20) // 4000 + 2))
    assert big.stat().st_size > UPLOAD_MAX_MB * 2**20
    r = _upload(api, "residents", big)
    assert r.status_code == 413
    assert "upload_max_mb" in r.json()["detail"]
    assert _counts(api) == before


def test_admins_only(api: CountyApi) -> None:
    for user in ("planner", "leader", "team_a"):
        r = _upload(api, "residents", api.files.residents, user)
        assert r.status_code == 403, user
    assert (
        api.client.post(
            "/api/v1/imports/residents", files={"file": ("a.csv", io.BytesIO(b"x"), CSV)}
        ).status_code
        == 401
    )
    r = api.client.post(
        "/api/v1/imports/visits",
        files={"file": ("a.csv", io.BytesIO(b"x"), CSV)},
        headers=api.as_("admin"),
    )
    assert r.status_code == 422
