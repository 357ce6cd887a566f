"""``coverplan users`` / ``keys`` / ``serve``: passwords from stdin, never the
command line; a key printed once; the server answers on 127.0.0.1 as a real
process and refuses to start without a secret."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from planner.services.accounts import authenticate, principal_from_key
from planner.settings import load_config
from planner.store.core import Store
from tests.cli import Coverplan

COVERPLAN = str(Path(sys.executable).parent / "coverplan")


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_users_add_list_disable(
    store: Store, db_url: str, coverplan: Coverplan, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "s3cret-pass\n")
    ran = coverplan(
        "users", "add", "li.team", "--role", "outreach", "--team", "A",
        "--towns", "330213001，330213002", "--password-stdin", "--json", db=db_url,
    )  # fmt: skip
    assert ran.json() == {
        "username": "li.team",
        "role": "outreach",
        "team": "A",
        "towns": ["330213001", "330213002"],
        "disabled": False,
        "locked_until": None,
        "created_at": ran.json()["created_at"],
    }
    p = authenticate(store, config=load_config(), username="li.team", password="s3cret-pass")
    assert p.towns == frozenset({"330213001", "330213002"})
    listed = coverplan("users", "list", "--json", db=db_url).json()["users"]
    assert [u["username"] for u in listed] == ["li.team"] and "password_hash" not in listed[0]
    assert coverplan("users", "disable", "li.team", db=db_url).returncode == 0
    assert coverplan("users", "list", "--json", db=db_url).json()["users"][0]["disabled"] is True


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["x1", "--role", "planner"], "short\n", "密码太短：至少 8 个字符"),
        (["x1", "--role", "outreach", "--team", "Z", "--towns", "330213001"], "longenough\n",
         "入户服务队「Z」不在配置 [outreach.teams] 中"),
        (["x1", "--role", "outreach", "--team", "A", "--towns", "330299001"], "longenough\n",
         "镇街代码 330299001 不在本库的行政区划中"),
        (["x1", "--role", "planner", "--team", "A"], "longenough\n", "只有外联（outreach）账户"),
        (["有空格 名", "--role", "planner"], "longenough\n", "用户名「有空格 名」无效"),
    ],
)  # fmt: skip
def test_users_add_mistakes_exit_2_with_the_fix(
    store: Store,
    db_url: str,
    coverplan: Coverplan,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    stdin: str,
    message: str,
) -> None:
    _stdin(monkeypatch, stdin)
    ran = coverplan("users", "add", *args, "--password-stdin", db=db_url)
    assert ran.returncode == 2 and message in ran.stderr and "Traceback" not in ran.stderr


def test_users_add_twice_and_without_a_terminal(
    store: Store, db_url: str, coverplan: Coverplan, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "longenough\n")
    assert (
        coverplan(
            "users", "add", "wang", "--role", "admin", "--password-stdin", db=db_url
        ).returncode
        == 0
    )
    _stdin(monkeypatch, "longenough\n")
    ran = coverplan("users", "add", "wang", "--role", "admin", "--password-stdin", db=db_url)
    assert ran.returncode == 2 and "用户「wang」已存在" in ran.stderr
    _stdin(monkeypatch, "")  # not a terminal, and no --password-stdin
    ran = coverplan("users", "add", "zhao", "--role", "admin", db=db_url)
    assert ran.returncode == 2 and "--password-stdin" in ran.stderr


def test_keys_add_list_revoke(store: Store, db_url: str, coverplan: Coverplan) -> None:
    made = coverplan(
        "keys", "add", "民政系统", "--scopes", "read:aggregates,read:persons", "--json", db=db_url
    ).json()
    assert made["scopes"] == ["read:aggregates", "read:persons"] and made["revoked_at"] is None
    assert principal_from_key(store, made["key"]).scopes == {"read:aggregates", "read:persons"}
    listed = coverplan("keys", "list", "--json", db=db_url).json()["keys"]
    assert [k["prefix"] for k in listed] == [made["prefix"]] and "key" not in listed[0]
    assert made["key"] not in coverplan("keys", "list", db=db_url).stdout
    assert coverplan("keys", "revoke", made["prefix"], db=db_url).returncode == 0
    again = coverplan("keys", "revoke", made["prefix"], db=db_url)
    assert again.returncode == 2 and "没有未吊销的密钥" in again.stderr
    bad = coverplan("keys", "add", "x", "--scopes", "write:everything", db=db_url)
    assert bad.returncode == 2 and "write:everything" in bad.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_serve_answers_on_localhost(store: Store, db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "COVERPLAN_SECRET": "s" * 40}
    proc = subprocess.Popen(
        [COVERPLAN, "--db", db_url, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ok"})
        status, body = _get(f"{base}/villages")
        assert status == 401 and body["status"] == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_serve_refuses_to_start_without_a_secret(store: Store, db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COVERPLAN_SECRET"}
    ran = subprocess.run(
        [COVERPLAN, "--db", db_url, "serve", "--port", str(_free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2 and "COVERPLAN_SECRET" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_demo_accounts_only_on_the_demo_store(store: Store) -> None:
    from data.demo.accounts import DEMO_KEY, DEMO_USERS, ensure_demo_accounts

    config = load_config()
    assert ensure_demo_accounts(store, config=config) == []  # init'ed 奉化区: real data
    with store.write() as s:
        store.set_meta(s, "district_source", "demo")
    first = ensure_demo_accounts(store, config=config)
    assert ensure_demo_accounts(store, config=config) == first  # again: nothing new, same list
    assert [a["username"] for a in first[:4]] == ["admin", "planner", "leader", "outreach"]
    assert first[3]["towns"] == ["330213001", "330213002"] and first[3]["team"] == "A"
    for account in DEMO_USERS:
        p = authenticate(store, config=config, username=account.username, password=account.password)
        assert p.role == account.role
    assert principal_from_key(store, DEMO_KEY).scopes == {"read:aggregates", "read:facilities"}
