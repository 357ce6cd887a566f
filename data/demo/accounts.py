"""The demo's accounts and API key: one account per role, fixed public passwords.

Only for the synthetic demo district (``coverplan demo``); ``coverplan serve
--demo`` refuses any other store. The outreach account is team A's and sees the
persons of the demo district's first two towns (by code).
"""

from __future__ import annotations

from dataclasses import dataclass

from data.demo.build import DEMO_SOURCE
from planner.services.accounts import (
    UserOptions,
    add_key,
    add_user,
    list_keys,
    list_users,
)
from planner.settings import Config
from planner.store.core import Store

__all__ = ["DEMO_KEY", "DEMO_KEY_SCOPES", "DEMO_USERS", "DemoAccount", "ensure_demo_accounts"]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str


DEMO_USERS = (
    DemoAccount("admin", "admin", "demo-admin-pass"),
    DemoAccount("planner", "planner", "demo-planner-pass"),
    DemoAccount("leader", "leader", "demo-leader-pass"),
    DemoAccount("outreach", "outreach", "demo-outreach-pass"),
)
#: The demo integration key (public; prefix 00000000).
DEMO_KEY = "cp_00000000_demo-integration-key-not-for-real-data"
DEMO_KEY_SCOPES = ("read:aggregates", "read:facilities")
DEMO_TEAM = "A"
DEMO_TOWNS = 2


def ensure_demo_accounts(store: Store, *, config: Config) -> list[dict[str, object]]:
    """Add the demo accounts and key that are missing; their descriptions (with passwords).

    Nothing on a store that is not the demo district (``coverplan demo --force`` on
    real data must not open it with public passwords): then ``[]``.
    """
    if store.get_meta("district_source") != DEMO_SOURCE:
        return []
    have = {u.username for u in list_users(store)}
    towns = tuple(t.code for t in sorted(store.gazetteer().towns, key=lambda t: t.code))[
        :DEMO_TOWNS
    ]
    team = DEMO_TEAM if DEMO_TEAM in config.outreach.teams else next(iter(config.outreach.teams))
    out: list[dict[str, object]] = []
    for account in DEMO_USERS:
        outreach = account.role == "outreach"
        if account.username not in have:
            add_user(
                store,
                config=config,
                options=UserOptions(
                    username=account.username,
                    password=account.password,
                    role=account.role,
                    team=team if outreach else None,
                    towns=towns if outreach else (),
                ),
            )
        out.append(
            {
                "username": account.username,
                "role": account.role,
                "password": account.password,
                **({"team": team, "towns": list(towns)} if outreach else {}),
            }
        )
    if not any(k.prefix == DEMO_KEY.split("_")[1] for k in list_keys(store)):
        add_key(store, name="演示系统", scopes=DEMO_KEY_SCOPES, key=DEMO_KEY)
    out.append({"api_key": DEMO_KEY, "role": "integration", "scopes": list(DEMO_KEY_SCOPES)})
    return out
