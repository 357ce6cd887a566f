"""The admin pages in the browser, on the served demo district: an upload gives the
batch report with every rejected row in Chinese (a file whose rows all belong to
another district: nothing stored), users and keys are added, the audit log lists a
person-level read; every page clean and photographed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.conftest import PASSWORDS

#: Two leads whose village codes belong to another district (330999, not 330213):
#: both rejected, nothing stored.
LEADS = (
    "姓名,性别,乡镇（街道）,村（社区）,村社代码,现住址,联系电话,疑似残疾类别,线索来源,发现日期\n"
    "测试甲,女,清河街道,清河社区,330999001001,示例县清河社区1号,,智力残疾,村社排查,2026-09-01\n"
    "测试乙,男,云岭镇,竹园村,330999002201,示例县竹园村2号,,肢体残疾,村社排查,2026-09-02\n"
)


def test_admin_imports_a_file_and_sees_the_report(browse: Any, tmp_path: Path) -> None:
    path = tmp_path / "外区线索.csv"
    path.write_text(LEADS, encoding="utf-8")
    b = browse()
    b.login("admin")
    assert b.goto("/admin/imports").status == 200
    page = b.page
    page.select_option('select[name="kind"]', "leads")
    page.set_input_files('input[type="file"]', str(path))
    with page.expect_navigation():
        page.click('form.upload button[type="submit"]')
    report = page.locator("#import-report")
    assert "外区线索.csv" in report.inner_text()
    counts = {
        k: int(report.locator(f'[data-count="{k}"]').inner_text())
        for k in ("rows", "stored", "rejected")
    }
    assert counts == {"rows": 2, "stored": 0, "rejected": 2}
    rows = report.locator("table.problems tbody tr")
    assert rows.count() == 2
    first = rows.nth(0).inner_text()
    assert "外区线索.csv" in first and "拒绝" in first
    assert "所有数据行均被拒绝" in report.inner_text()
    assert "外区线索.csv" in page.inner_text("#history")
    b.shot("admin-imports")
    b.assert_clean()


def test_admin_adds_a_user_and_a_key(browse: Any) -> None:
    b = browse()
    b.login("admin")
    assert b.goto("/admin/users").status == 200
    page = b.page
    form = page.locator("#add-user")
    form.locator('input[name="username"]').fill("planner-2")
    form.locator('select[name="role"]').select_option("planner")
    form.locator('input[name="password"]').fill("planner-2-password")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert "已添加用户「planner-2」（规划人员）" in page.inner_text("main")
    assert "规划人员" in page.inner_text('tr[data-user="planner-2"]')
    keys = page.locator("#add-key")
    keys.locator('input[name="name"]').fill("残联数据平台")
    keys.locator('input[value="read:aggregates"]').check()
    with page.expect_navigation():
        keys.locator('button[type="submit"]').click()
    key = page.inner_text("#new-key .secret").strip()
    assert key.startswith("cp_")
    b.shot("admin-users")
    b.assert_clean()
    # the new account signs in
    other = browse()
    other.login("planner-2", password="planner-2-password")
    assert other.page.url.endswith("/planner") or "/planner" in other.page.url


def test_admin_sees_person_reads_in_the_audit_log(browse: Any) -> None:
    b = browse()
    b.login("admin")
    request = b.page.request
    token = request.post(
        b.server.base + "/api/v1/auth/token",
        form={"username": "admin", "password": PASSWORDS["admin"]},
    ).json()["access_token"]
    read = request.get(
        b.server.base + "/api/v1/residents?purpose=浏览器测试核对&page_size=3",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert read.ok, read.text()
    assert b.goto("/admin/audit").status == 200
    first = b.page.locator("#audit tbody tr").first.inner_text()
    assert "admin" in first and "浏览器测试核对" in first and "3" in first
    b.shot("admin-audit")
    b.assert_clean()
