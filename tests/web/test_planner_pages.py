"""The planner dashboard in-process (示例县): the indicator table as the API gives it,
the per-type tables and their CSV/XLSX downloads (Chinese headers, BOM, small
counts 「<5」 for planners and the numbers for admins), the htmx fragments, and no
personal data anywhere a planner looks."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest

from tests.http.county_api import PASSWORD
from tests.web.county_web import CountyWeb, build_county_web, use_county_web

MIN_COUNT = 5
VILLAGES = 12  # 示例县: 6 villages in each of its 2 towns
VILLAGE_HEADERS = [
    "村社代码",
    "村社",
    "镇街",
    "符合条件人数",
    "需上门服务",
    "可达人数",
    "容量内可服务人数",
    "不可达人数",
    "超出容量人数",
    "覆盖率%",
    "可及性指数(每千人名额)",
    "距路网过远人数",
    "未定位人数",
]
COUNT_HEADERS = VILLAGE_HEADERS[3:9] + VILLAGE_HEADERS[11:]


@pytest.fixture(scope="module")
def web_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyWeb]:
    yield from build_county_web(tmp_path_factory)


@pytest.fixture
def web(web_module: CountyWeb, monkeypatch: pytest.MonkeyPatch) -> CountyWeb:
    return use_county_web(web_module, monkeypatch)


def _api(web: CountyWeb, user: str, path: str) -> Any:
    client = web.client(user)
    token = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    r = client.get(path, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert r.status_code == 200, r.text
    return r.json()


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV must start with a BOM (Excel)"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_indicator_table_is_the_apis_in_the_plans_order(web: CountyWeb) -> None:
    html = web.client("planner").get("/planner").text
    doc = _api(web, "planner", "/api/v1/indicators")
    keys = re.findall(r'<tr data-key="([^"]+)"', html)
    assert keys == [i["key"] for i in doc["indicators"] + doc["policy_checks"]]
    assert len(doc["indicators"]) == 14
    rows = dict(re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', html, flags=re.S))
    for item in doc["indicators"] + doc["policy_checks"]:
        row = rows[item["key"]]
        assert item["name"].replace('"', "&#34;") in row
        judged = {True: 'class="met">达标', False: 'class="unmet">未达标'}.get(item["met"])
        if judged:
            assert judged in row, item["key"]
        else:
            assert "met" not in row.replace("nodata", ""), item["key"]
    # known answers: both towns have a 残疾人之家 (2/2, met); 养老保险 is not in the register
    assert "100.00%（2/2）" in rows["home"] and 'class="met">达标' in rows["home"]
    assert "无数据" in rows["pension_insurance"] and "养老保险" in rows["pension_insurance"]


def test_the_type_selector_switches_tables_and_map_frames(web: CountyWeb) -> None:
    client = web.client("planner")
    page = client.get("/planner").text
    assert 'src="/maps/coverage.html?type=home"' in page
    assert 'src="/maps/gaps.html?type=home"' in page
    assert re.search(r'src="/maps/indicators\.html\?indicator=\w+"', page)
    panel = client.get("/planner/panel?type=psych_station")
    assert panel.status_code == 200 and "<html" not in panel.text  # a fragment
    assert 'src="/maps/coverage.html?type=psych_station"' in panel.text
    assert "分村社覆盖（精神残疾人社区康复站）" in panel.text
    frame = client.get("/planner/indicator-map?indicator=home").text
    assert 'src="/maps/indicators.html?indicator=home"' in frame
    bad = client.get("/planner/panel?type=nope")
    assert bad.status_code == 422 and "设施类型「nope」不存在" in bad.text


def test_village_downloads_parse_back_with_suppression_for_planners(web: CountyWeb) -> None:
    planner = web.client("planner").get("/planner/download/villages.csv?type=home")
    admin = web.client("admin").get("/planner/download/villages.csv?type=home")
    assert planner.status_code == admin.status_code == 200
    assert planner.headers["content-type"].startswith("text/csv")
    assert "attachment" in planner.headers["content-disposition"]
    shown, full = _csv(planner.content), _csv(admin.content)
    assert shown[0] == full[0] == VILLAGE_HEADERS
    assert len(shown) == len(full) == VILLAGES + 1
    api = {r["village_code"]: r for r in _api(web, "admin", "/api/v1/coverage/villages?type=home")}
    suppressed = 0
    for s_row, f_row in zip(shown[1:], full[1:], strict=True):
        assert s_row[0] == f_row[0]
        assert int(f_row[3]) == api[f_row[0]]["eligible"]
        for col in (VILLAGE_HEADERS.index(h) for h in COUNT_HEADERS):
            n = int(f_row[col])
            if 0 < n < MIN_COUNT:
                assert s_row[col] == "<5", (s_row, col)
                suppressed += 1
            else:
                assert s_row[col] == f_row[col]
    assert suppressed > 0  # the county's villages are small: there is something to hide


def test_xlsx_download_holds_the_same_table(web: CountyWeb) -> None:
    client = web.client("planner")
    rows = _csv(client.get("/planner/download/gaps.csv?type=home").content)
    r = client.get("/planner/download/gaps.xlsx?type=home")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = [
        ["" if v is None else str(v) for v in row] for row in wb.active.iter_rows(values_only=True)
    ]
    assert sheet[0] == rows[0] and sheet[0][:2] == ["排名", "村社代码"]
    assert "可达但无名额人数" in sheet[0] and "不可达人数" in sheet[0]
    assert [row[1] for row in sheet[1:]] == [row[1] for row in rows[1:]]
    assert len(sheet) > 1 and any("<5" in row for row in sheet[1:])


def test_every_table_downloads_and_bad_names_are_told(web: CountyWeb) -> None:
    client = web.client("planner")
    for name in ("types", "villages", "towns", "gaps", "policy", "indicators"):
        for fmt in ("csv", "xlsx"):
            r = client.get(f"/planner/download/{name}.{fmt}?type=home")
            assert r.status_code == 200, (name, fmt, r.text[:300])
    towns = _csv(client.get("/planner/download/towns.csv?type=home").content)
    assert [row[1] for row in towns[1:]] == ["清河街道", "云岭镇"]
    missing = client.get("/planner/download/people.csv")
    assert missing.status_code == 404 and "没有名为「people」的表" in missing.text
    pdf = client.get("/planner/download/villages.pdf")
    assert pdf.status_code == 422 and "csv 或 xlsx" in pdf.text


def test_long_tables_are_paged_on_the_page(web: CountyWeb) -> None:
    client = web.client("planner")
    first = client.get("/planner/table/policy?page=1").text
    assert f"第 1–{VILLAGES} 行，共 {VILLAGES} 行" in first  # 12 rows: one page of 50
    beyond = client.get("/planner/table/policy?page=9").text  # clamped to the last page
    assert f"共 {VILLAGES} 行" in beyond


def test_no_personal_data_reaches_a_planner(web: CountyWeb) -> None:
    client = web.client("planner")
    texts = [client.get("/planner").text]
    for path in ("/planner/panel?type=home", "/planner/table/villages?type=home"):
        texts.append(client.get(path).text)
    for name in ("villages", "towns", "gaps", "policy", "indicators", "types"):
        texts.append(
            client.get(f"/planner/download/{name}.csv?type=home").content.decode("utf-8-sig")
        )
        xlsx = openpyxl.load_workbook(
            io.BytesIO(client.get(f"/planner/download/{name}.xlsx?type=home").content)
        )
        texts.append(str(list(xlsx.active.iter_rows(values_only=True))))
    leaks = [found for text in texts if (found := web.sensitive.leaks(text))]
    assert leaks == []


def test_other_roles_cannot_open_the_planner_pages(web: CountyWeb) -> None:
    for user in ("leader", "outreach-a"):
        client = web.client(user)
        for path in ("/planner", "/planner/download/villages.csv", "/planner/panel"):
            assert client.get(path).status_code == 403, (user, path)


def _town_cells(html: str) -> list[list[str]]:
    table = re.search(r'<table data-table="indicator-towns">.*?</table>', html, flags=re.S)
    assert table is not None, html[:1000]
    body = table.group(0).split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    return [[html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cells]


def test_the_indicator_per_town_hides_small_counts_from_planners(web: CountyWeb) -> None:
    path = "/planner/indicator-map?indicator=living_subsidy"
    shown = _town_cells(web.client("planner").get(path).text)
    full = _town_cells(web.client("admin").get(path).text)
    doc = _api(web, "admin", "/api/v1/indicators")
    item = next(i for i in doc["indicators"] if i["key"] == "living_subsidy")
    assert [r[0] for r in full] == [t["town_name"] for t in item["by_town"]]
    assert [r[1:3] for r in full] == [
        [str(t["numerator"]), str(t["denominator"])] for t in item["by_town"]
    ]
    hidden = 0
    for s_row, f_row in zip(shown, full, strict=True):
        assert s_row[3:] == f_row[3:]  # value and judgement as the API gives them
        for s, f in zip(s_row[1:3], f_row[1:3], strict=True):
            if f.isdigit() and 0 < int(f) < MIN_COUNT:
                assert s == "<5"
                hidden += 1
            else:
                assert s == f
    assert hidden > 0
    missing = web.client("planner").get("/planner/indicator-map?indicator=nope")
    assert missing.status_code == 404 and "没有指标「nope」" in missing.text
