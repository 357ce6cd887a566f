"""Authentication: every non-public route answers 401 without credentials (read
from the OpenAPI, so new routes are covered), forged / expired / alg=none tokens,
lockout kept in the store, API keys and their scopes, the secret's rules."""

from __future__ import annotations

import base64
import json
import warnings
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import delete, select

from api.http.app import DEMO_SECRET, create_app
from api.http.throttle import LoginThrottle
from planner.errors import ConfigError, TooManyRequestsError
from planner.services.accounts import BAD_CREDENTIALS, add_key, disable_user, revoke_key
from planner.settings import load_config, reset_settings
from planner.store import schema as t
from tests.http.conftest import PASSWORD, SECRET, World

PUBLIC = {("get", "/api/v1/health"), ("post", "/api/v1/auth/token")}


def _operations(world: World) -> list[tuple[str, str]]:
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    return [(m, p) for p, ops in spec["paths"].items() for m in ops if p.startswith("/api/v1")]


def test_every_non_public_route_answers_401_without_credentials(world: World) -> None:
    ops = _operations(world)
    assert len(ops) >= 10  # health, token, me, towns, villages, facilities ×5, residents ×2
    for method, path in ops:
        if (method, path) in PUBLIC:
            continue
        url = path.replace("{facility_id}", "1").replace("{resident_id}", "1")
        r = world.client.request(method.upper(), url, params={"purpose": "x"})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 401 and "Bearer" in r.json()["detail"]
        declared = world.client.app.openapi()["paths"][path][method]["responses"]  # type: ignore[attr-defined]
        assert "401" in declared, (method, path)


def test_openapi_declares_bearer_and_api_key(world: World) -> None:
    schemes = world.client.app.openapi()["components"]["securitySchemes"]  # type: ignore[attr-defined]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["apiKey"]["description"],
    }


def test_health_is_public(world: World) -> None:
    assert world.client.get("/api/v1/health").json() == {"status": "ok"}


def test_a_good_login_gives_a_token_for_me(world: World) -> None:
    r = world.client.post("/api/v1/auth/token", data={"username": "outreach", "password": PASSWORD})
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60
    me = world.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert me == {
        "subject": "outreach",
        "role": "outreach",
        "team": "A",
        "towns": ["330213001", "330213002"],
        "scopes": [],
        "sees_persons": True,
    }


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _claims(**over: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"sub": "admin", "role": "admin", "iat": now, "exp": now + timedelta(minutes=5), **over}


def _me(world: World, token: str) -> int:
    return world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_forged_expired_alg_none_and_incomplete_tokens_are_401(world: World) -> None:
    good = jwt.encode(_claims(), SECRET, algorithm="HS256")
    assert _me(world, good) == 200
    forged = jwt.encode(_claims(), "another-secret-" + "y" * 40, algorithm="HS256")
    assert _me(world, forged) == 401
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = jwt.encode(
        _claims(iat=past, exp=past + timedelta(minutes=5)), SECRET, algorithm="HS256"
    )
    assert _me(world, expired) == 401
    now = int(datetime.now(UTC).timestamp())
    payload = {"sub": "admin", "iat": now, "exp": now + 300}
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    assert _me(world, alg_none) == 401
    no_exp = jwt.encode({"sub": "admin", "iat": now}, SECRET, algorithm="HS256")
    assert _me(world, no_exp) == 401
    with warnings.catch_warnings():  # the secret is short for HS512: only the alg matters here
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        hs512 = jwt.encode(_claims(), SECRET, algorithm="HS512")
    assert _me(world, hs512) == 401
    ghost = jwt.encode(_claims(sub="nobody"), SECRET, algorithm="HS256")
    assert _me(world, ghost) == 401
    r = world.client.get("/api/v1/me", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert r.status_code == 401


def test_a_disabled_account_cannot_log_in_and_its_token_stops(world: World) -> None:
    token = world.token("leader")
    disable_user(world.store, "leader")
    assert _me(world, token) == 401
    r = world.client.post("/api/v1/auth/token", data={"username": "leader", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["detail"] == BAD_CREDENTIALS


def _login(client: TestClient, username: str, password: str) -> int:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    if r.status_code == 401:
        assert r.json()["detail"] == BAD_CREDENTIALS  # unknown user, wrong password, locked alike
    return r.status_code


def test_lockout_after_five_failures_survives_a_new_app(world: World) -> None:
    for _ in range(4):
        assert _login(world.client, "planner", "wrong-password") == 401
    assert _login(world.client, "planner", PASSWORD) == 200  # 4 failures: not yet locked
    for _ in range(5):
        assert _login(world.client, "planner", "wrong-password") == 401
    assert _login(world.client, "planner", PASSWORD) == 401  # locked, good password or not
    with TestClient(create_app(db_url=world.url)) as fresh:  # a restart: the lock is in the store
        assert _login(fresh, "planner", PASSWORD) == 401
        assert _login(fresh, "admin", PASSWORD) == 200  # others are not locked
    assert _login(world.client, "nobody", PASSWORD) == 401


def test_api_keys_and_their_scopes(world: World) -> None:
    agg = add_key(world.store, name="统计系统", scopes=("read:aggregates",))
    persons = add_key(world.store, name="民政系统", scopes=("read:persons",))
    assert agg.key.startswith(f"cp_{agg.info.prefix}_") and len(agg.key) > 40
    h = {"X-API-Key": agg.key}
    assert world.client.get("/api/v1/me", headers=h).json()["subject"] == f"key:{agg.info.prefix}"
    assert world.client.get("/api/v1/villages", headers=h).status_code == 200
    assert world.client.get("/api/v1/facilities", headers=h).status_code == 403
    r = world.client.get("/api/v1/residents", headers=h, params={"purpose": "x"})
    assert r.status_code == 403
    hp = {"X-API-Key": persons.key}
    r = world.client.get("/api/v1/residents", headers=hp, params={"purpose": "核对补贴"})
    assert r.status_code == 200 and r.json()["total"] == 15
    assert all("*" in p["id_number"] for p in r.json()["items"])
    assert world.client.get("/api/v1/villages", headers=hp).status_code == 403
    wrong = agg.key[:-4] + "AAAA"
    assert world.client.get("/api/v1/me", headers={"X-API-Key": wrong}).status_code == 401
    assert world.client.get("/api/v1/me", headers={"X-API-Key": "cp_nope"}).status_code == 401
    revoke_key(world.store, agg.info.prefix)
    assert world.client.get("/api/v1/me", headers=h).status_code == 401


def test_no_secret_refuses_to_start_outside_demo(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COVERPLAN_SECRET")
    reset_settings()
    with pytest.raises(ConfigError, match="COVERPLAN_SECRET"):
        create_app(db_url=world.url)
    with pytest.raises(ConfigError, match="演示数据库"):  # --demo on a store that is not the demo
        create_app(db_url=world.url, demo=True)
    monkeypatch.setenv("COVERPLAN_SECRET", "short")
    reset_settings()
    with pytest.raises(ConfigError, match="至少 32 个字符"):
        create_app(db_url=world.url)


def test_demo_mode_uses_the_demo_secret_on_the_demo_store(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.store.write() as s:
        world.store.set_meta(s, "district_source", "demo")
    monkeypatch.delenv("COVERPLAN_SECRET")
    reset_settings()
    app = create_app(db_url=world.url, demo=True)
    assert app.state.secret == DEMO_SECRET
    with TestClient(app) as client:
        r = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        claims = jwt.decode(r.json()["access_token"], DEMO_SECRET, algorithms=["HS256"])
        assert claims["sub"] == "admin"


def test_a_token_carries_no_more_than_the_accounts_current_state(world: World) -> None:
    """Signed with the right secret, yet: the role comes from the store (not the
    claim), and a deleted or locked account's token stops at once."""
    claims_admin = jwt.encode(_claims(sub="planner", role="admin"), SECRET, algorithm="HS256")
    h = {"Authorization": f"Bearer {claims_admin}"}
    assert world.client.get("/api/v1/me", headers=h).json()["role"] == "planner"
    body = {"key": "H-9", "type": "home", "name": "新家"}
    assert world.client.post("/api/v1/facilities", headers=h, json=body).status_code == 403
    leader = world.token("leader")
    with world.store.write() as s:
        s.execute(delete(t.User).where(t.User.username == "leader"))
    assert _me(world, leader) == 401  # a deleted account
    outreach = world.token("outreach")
    for _ in range(5):
        assert _login(world.client, "outreach", "wrong-password") == 401
    assert _me(world, outreach) == 401  # locked
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert _me(world, jwt.encode(_claims(nbf=soon), SECRET, algorithm="HS256")) == 401
    assert _me(world, jwt.encode(_claims(sub=7), SECRET, algorithm="HS256")) == 401
    assert _me(world, "") == 401
    admin = world.token("admin")
    assert world.client.get("/api/v1/me", headers={"X-API-Key": admin}).status_code == 401
    assert _me(world, admin) == 200


def test_one_address_gets_a_limited_number_of_sign_in_attempts(world: World) -> None:
    """Beyond ``[auth] login_per_minute`` attempts from one address, even over many
    accounts and even with the right password: 429 with Retry-After, declared."""
    limit = load_config().auth.login_per_minute
    for i in range(limit):
        r = world.client.post(
            "/api/v1/auth/token", data={"username": f"nobody{i}", "password": "wrong-pass"}
        )
        assert r.status_code == 401
    r = world.client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "请" in r.json()["detail"] and str(limit) in r.json()["detail"]
    declared = world.client.app.openapi()["paths"]["/api/v1/auth/token"]["post"]["responses"]  # type: ignore[attr-defined]
    assert "429" in declared
    # the limit is per address: nothing was locked in the store for "admin"
    with world.store.read() as s:
        admin = s.scalars(select(t.User).where(t.User.username == "admin")).one()
        assert not admin.failed_logins


def test_the_window_slides() -> None:
    now = [1000.0]
    throttle = LoginThrottle(per_minute=2, clock=lambda: now[0])
    throttle.check("a")
    now[0] += 30
    throttle.check("a")
    throttle.check("b")  # another address has its own count
    with pytest.raises(TooManyRequestsError) as caught:
        throttle.check("a")
    assert caught.value.retry_after == 30  # when the first attempt leaves the window
    now[0] += 30  # the first attempt is a minute old: one free
    throttle.check("a")
    with pytest.raises(TooManyRequestsError):
        throttle.check("a")
