"""Signing in and out in a real browser; each role lands on its page and cannot
open another role's; pages load with no console error and no outside request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import ROLES

HOME = {"admin": "/admin", "planner": "/planner", "leader": "/leader", "outreach": "/outreach"}
OTHERS = {
    "planner": ("/leader", "/outreach", "/admin"),
    "leader": ("/planner", "/outreach", "/admin"),
    "outreach": ("/planner", "/leader", "/admin"),
}


def test_the_login_page_is_chinese_offline_and_shows_the_demo_accounts(browse: Any) -> None:
    b = browse()
    b.goto("/login")
    assert b.page.title().startswith("登录")
    text = b.page.inner_text("body")
    assert "演示数据（合成），非真实人员" in text and "demo-planner-pass" in text
    b.shot("login")
    b.assert_clean()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_page(browse: Any, role: str) -> None:
    b = browse()
    b.login(role)
    assert b.page.url.endswith(HOME[role])
    assert role in b.page.inner_text("header")
    b.assert_clean()


@pytest.mark.parametrize("role", sorted(OTHERS))
def test_a_role_cannot_open_another_roles_pages(browse: Any, role: str) -> None:
    b = browse()
    b.login(role)
    for path in OTHERS[role]:
        response = b.goto(path)
        assert response.status == 403, path
        assert "不能打开此页面" in b.page.inner_text("main")
    # the browser logs each 403 itself ("Failed to load resource"): no other error
    assert [e for e in b.console_errors if "403" not in e] == []
    assert b.outside == []


def test_admin_opens_every_area(browse: Any) -> None:
    b = browse()
    b.login("admin")
    for path in HOME.values():
        assert b.goto(path).status == 200, path
    b.assert_clean()


def test_a_wrong_password_is_told_in_chinese_and_no_cookie_is_set(browse: Any) -> None:
    b = browse()
    b.login("planner", password="wrong-password")
    assert "/login" in b.page.url
    assert "用户名或密码" in b.page.inner_text("main")
    assert not [c for c in b.context.cookies() if c["name"] == "cp_session"]


def test_pages_need_a_session_and_sign_out_ends_it(browse: Any) -> None:
    b = browse()
    b.goto("/planner")
    assert "/login?next=/planner" in b.page.url
    b.login("planner")
    with b.page.expect_navigation():
        b.page.click("form.who button")
    assert b.page.url.endswith("/login")
    b.goto("/planner")
    assert "/login" in b.page.url  # the old cookie no longer opens anything
    b.assert_clean()


def test_the_session_cookie_is_httponly_and_strict(browse: Any) -> None:
    b = browse()
    b.login("leader")
    (cookie,) = [c for c in b.context.cookies() if c["name"] == "cp_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
