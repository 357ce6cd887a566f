"""The admin pages in-process (示例县): uploads give the CLI's batch report (a bad
file: a Chinese reason and nothing stored; rejected rows listed with file, row,
column and reason), users and keys are added, disabled and revoked, every POST
needs the session's CSRF token, and the audit log is listed page by page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest

from planner.services.history import access_log, import_batches
from planner.store.audit import record_access
from tests.http.county_api import MONTH, PASSWORD
from tests.web.county_web import CountyWeb, build_county_web, use_county_web

PAGE_SIZE = 50  # [server] page_size_default
KEY = re.compile(r"cp_[0-9a-f]{8}_[\w-]+")


@pytest.fixture(scope="module")
def web_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyWeb]:
    yield from build_county_web(tmp_path_factory)


@pytest.fixture
def web(web_module: CountyWeb, monkeypatch: pytest.MonkeyPatch) -> CountyWeb:
    return use_county_web(web_module, monkeypatch)


def _batches(web: CountyWeb) -> int:
    return import_batches(web.store, page=1, page_size=1).total


def _upload(
    web: CountyWeb, name: str, body: bytes, *, kind: str, csrf: bool = True
) -> tuple[int, str]:
    client = web.client("admin")
    data = {"kind": kind, "crs": "wgs84"}
    if csrf:
        data["csrf"] = web.csrf["admin"]
    r = client.post("/admin/imports", data=data, files={"file": (name, body, "text/csv")})
    return r.status_code, r.text


def _counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def _residents_rows(web: CountyWeb) -> list[list[str]]:
    text = (web.files / "residents.csv").read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_a_file_that_cannot_be_used_is_told_in_chinese_and_nothing_is_stored(
    web: CountyWeb,
) -> None:
    before = _batches(web)
    status, html = _upload(web, "名册.csv", "姓名,地址\n张三,某地\n".encode(), kind="residents")
    assert status == 422
    assert "文件「名册.csv」未导入，库中数据未改变" in html
    assert "缺少必需的列" in html and "公民身份号码" in html
    assert _batches(web) == before


def test_a_register_of_another_kind_is_refused_naming_the_right_kind(web: CountyWeb) -> None:
    before = _batches(web)
    body = (web.files / "residents.csv").read_bytes()
    status, html = _upload(web, "residents.csv", body, kind="villages")
    assert status == 422 and "残疾人名册" in html and "import residents" in html
    assert _batches(web) == before


def test_a_good_file_gives_the_batch_report_with_every_rejected_row(web: CountyWeb) -> None:
    rows = _residents_rows(web)
    header, first, second = rows[0], rows[1], rows[2]
    col = header.index("公民身份号码")
    broken = list(second)
    broken[col] = broken[col][:17] + ("0" if broken[col][17] != "0" else "1")  # bad check char
    before = _batches(web)
    status, html = _upload(web, "两行.csv", _csv_bytes([header, first, broken]), kind="residents")
    assert status == 200, html[:2000]
    assert _counts(html) == {
        "rows": 2,
        "stored": 1,
        "inserted": 0,
        "updated": 0,
        "unchanged": 1,
        "rejected": 1,
        "needs_review": 0,
    }
    assert _batches(web) == before + 1
    problem = re.search(r'<table class="problems">.*?</table>', html, flags=re.S)
    assert problem is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", problem.group(0), flags=re.S)
    assert cells[:3] == ["两行.csv", "3", "公民身份号码"] and cells[4] == "拒绝"
    assert "校验" in cells[5]  # the reason, in Chinese
    assert broken[col] not in html  # the ID number is shown masked
    # the batch is listed and its report can be opened again
    listing = web.client("admin").get("/admin/imports").text
    batch = import_batches(web.store, page=1, page_size=1).batches[0]
    assert batch.file == "两行.csv" and f'href="/admin/imports/{batch.id}"' in listing
    again = web.client("admin").get(f"/admin/imports/{batch.id}").text
    assert _counts(again)["rejected"] == 1 and "公民身份号码" in again
    assert web.client("admin").get("/admin/imports/999999").status_code == 404


def test_an_upload_without_the_csrf_token_is_refused_and_stores_nothing(web: CountyWeb) -> None:
    before = _batches(web)
    body = (web.files / "leads.csv").read_bytes()
    status, html = _upload(web, "leads.csv", body, kind="leads", csrf=False)
    assert status == 403 and "校验码不符" in html
    assert _batches(web) == before
    # the htmx header is the other way to send it
    r = web.client("admin").post(
        "/admin/imports",
        data={"kind": "leads"},
        files={"file": ("leads.csv", body, "text/csv")},
        headers={"X-CSRF-Token": web.csrf["admin"]},
    )
    assert r.status_code == 200 and _counts(r.text)["unchanged"] == 1
    assert _batches(web) == before + 1


@pytest.mark.parametrize(
    "path,data",
    [
        ("/admin/users", {"username": "x1", "role": "planner", "password": PASSWORD}),
        ("/admin/users/planner/disable", {}),
        ("/admin/keys", {"name": "k", "scopes": "read:aggregates"}),
        ("/admin/keys/00000000/revoke", {}),
    ],
)
def test_every_admin_post_needs_the_csrf_token(web: CountyWeb, path: str, data: dict) -> None:
    client = web.client("admin")
    r = client.post(path, data={**data, "csrf": "forged"})
    assert r.status_code == 403 and "校验码不符" in r.text
    users = client.get("/admin/users").text
    assert "x1" not in re.findall(r'data-user="([^"]+)"', users)
    assert 'data-user="planner"' in users and "已停用" not in users


def test_users_are_added_listed_and_disabled(web: CountyWeb) -> None:
    client, csrf = web.client("admin"), web.csrf["admin"]
    r = client.post(
        "/admin/users",
        data={
            "csrf": csrf,
            "username": "team-a-2",
            "role": "outreach",
            "team": "A",
            "towns": ["330999001"],
            "password": "another-horse-2",
        },
    )
    assert r.status_code == 200 and "已添加用户「team-a-2」（入户服务队）" in r.text
    row = re.search(r'<tr data-user="team-a-2">(.*?)</tr>', r.text, flags=re.S)
    assert row and "入户服务队" in row.group(1) and "清河街道" in row.group(1)
    assert "启用" in row.group(1)
    web.sign_in("team-a-2", "another-horse-2")  # the new account signs in
    short = client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "short", "role": "planner", "password": "x"},
    )
    assert short.status_code == 422 and "密码太短" in short.text
    off = client.post("/admin/users/team-a-2/disable", data={"csrf": csrf})
    assert off.status_code == 200 and "已停用用户「team-a-2」" in off.text
    assert web.clients["team-a-2"].get("/outreach", follow_redirects=False).status_code == 303
    me = client.post("/admin/users/admin/disable", data={"csrf": csrf})
    assert me.status_code == 422 and "不能停用自己" in me.text


def test_a_key_is_shown_once_works_and_stops_when_revoked(web: CountyWeb) -> None:
    client, csrf = web.client("admin"), web.csrf["admin"]
    r = client.post(
        "/admin/keys", data={"csrf": csrf, "name": "残联数据平台", "scopes": ["read:aggregates"]}
    )
    assert r.status_code == 200
    keys = KEY.findall(r.text)
    assert len(keys) == 1
    key = keys[0]
    assert KEY.findall(client.get("/admin/users").text) == []  # shown once only
    api = client.get("/api/v1/coverage/towns?type=home", headers={"X-API-Key": key})
    assert api.status_code == 200
    prefix = key.split("_")[1]
    revoked = client.post(f"/admin/keys/{prefix}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 200 and f"前缀 {prefix}" in revoked.text
    after = client.get("/api/v1/coverage/towns?type=home", headers={"X-API-Key": key})
    assert after.status_code == 401
    bad = client.post("/admin/keys", data={"csrf": csrf, "name": "无权限"})
    assert bad.status_code == 422 and "权限范围" in bad.text


def test_the_audit_log_lists_person_reads_newest_first_page_by_page(web: CountyWeb) -> None:
    client = web.client("admin")
    token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    read = client.get("/api/v1/residents?purpose=核对名册&village=330999001001", headers=auth)
    assert read.status_code == 200, read.text
    shown = client.get("/admin/audit").text
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", shown, flags=re.S)
    assert first and "admin" in first.group(1) and "核对名册" in first.group(1)
    assert f">{len(read.json()['items'])}<" in first.group(1)
    for n in range(PAGE_SIZE + 3):
        record_access(
            web.store,
            subject="outreach-a",
            role="outreach",
            action="export",
            target=f"route-sheet/{n}",
            purpose="打印路线单",
            count=n,
        )
    total = access_log(web.store, page=1, page_size=1).total
    page1 = client.get("/admin/audit").text
    assert page1.count("打印路线单") == PAGE_SIZE and f"共 {total} 条" in page1
    assert "route-sheet/52" in page1 and "route-sheet/2<" not in page1
    page2 = client.get("/admin/audit?page=2").text
    assert "route-sheet/2<" in page2 and "核对名册" in page2
    assert client.get("/admin/audit?page=0").status_code == 422


def test_only_admins_open_the_admin_pages(web: CountyWeb) -> None:
    for user in ("planner", "leader", "outreach-a"):
        for path in ("/admin", "/admin/imports", "/admin/users", "/admin/audit"):
            assert web.client(user).get(path).status_code == 403, (user, path)


def test_a_visits_upload_that_is_not_a_route_sheet_is_refused(web: CountyWeb) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "地址"])
    wb.active.append(["张三", "某地"])
    out = io.BytesIO()
    wb.save(out)
    before = _batches(web)
    client = web.client("admin")
    r = client.post(
        "/admin/imports",
        data={"kind": "visits", "csrf": web.csrf["admin"]},
        files={"file": ("走访.xlsx", out.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 422, r.text[:1000]
    assert "不是入户路线单" in r.text and "缺少列" in r.text
    assert "文件「走访.xlsx」未导入，库中数据未改变" in r.text
    assert _batches(web) == before


def _route_sheet(web: CountyWeb) -> tuple[bytes, dict[str, int]]:
    """Team A's route sheet of last month (as the API hands it out), filled in: the
    first household done, the second with an outcome nobody knows, the third blank."""
    import openpyxl

    client = web.client("admin")
    token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    purpose = {"purpose": "入户走访登记"}
    r = client.get(f"/api/v1/outreach/months/{MONTH}", headers=auth, params=purpose)
    assert r.status_code == 200, r.text[:500]
    team = next(t for t in r.json()["plan"]["teams"] if t["team"] == "A")
    day = team["days"][0]["date"]
    sheet = client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/A/{day}.xlsx", headers=auth, params=purpose
    )
    assert sheet.status_code == 200, sheet.text[:500]
    wb = openpyxl.load_workbook(io.BytesIO(sheet.content))
    ws = wb["入户路线单"]
    header = next(r_ for r_ in range(1, 10) if ws.cell(r_, 1).value == "编号")
    cols = {c.value: c.column for c in ws[header]}
    rows = [r_ for r_ in range(header + 1, ws.max_row + 1) if ws.cell(r_, 1).value]
    ws.cell(rows[0], cols["结果"], "完成")
    ws.cell(rows[0], cols["已提供服务"], ws.cell(rows[0], cols["服务项目"]).value)
    ws.cell(rows[1], cols["结果"], "不知道")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), {"rows": len(rows), "bad": rows[1]}


def test_a_filled_route_sheet_is_imported_with_its_report(web: CountyWeb) -> None:
    body, rows = _route_sheet(web)
    before = _batches(web)
    r = web.client("admin").post(
        "/admin/imports",
        data={"kind": "visits", "csrf": web.csrf["admin"]},
        files={"file": ("A队路线单.xlsx", body, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text[:2000]
    counts = _counts(r.text)
    assert counts["rows"] == rows["rows"] and counts["inserted"] == counts["stored"] == 1
    assert counts["rejected"] == 1 and counts["skipped_blank"] == rows["rows"] - 2
    table = re.search(r'<table class="problems">.*?</table>', r.text, flags=re.S)
    assert table is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table.group(0), flags=re.S)
    assert cells[:3] == ["A队路线单.xlsx", str(rows["bad"]), "结果"] and cells[4] == "拒绝"
    assert _batches(web) == before + 1
