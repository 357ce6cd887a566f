"""Browser tests of the web UI: a real ``coverplan serve --demo`` on 127.0.0.1 (on a
copy of the session's demo district) driven by Playwright in the system's headless
Chromium (``executable_path``; never ``playwright install``).

Every page opened through :class:`Browse` records console errors, uncaught page
errors and every request to a host other than the app's (aborted): tests assert
all three empty. :meth:`Browse.shot` saves a screenshot under ``out/screenshots/``
of the repository (the user guides show them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.demo_district import DemoDistrict

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "out" / "screenshots"
COVERPLAN = str(Path(sys.executable).parent / "coverplan")
PASSWORDS = {
    "admin": "demo-admin-pass",
    "planner": "demo-planner-pass",
    "leader": "demo-leader-pass",
    "outreach": "demo-outreach-pass",
}
ROLES = tuple(PASSWORDS)
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_S = 90.0


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "没有找到系统的 chromium：请运行 make test-deps（apt-get install chromium）"
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebServer:
    """The served demo: its base URL and its district copy."""

    base: str
    demo: DemoDistrict
    log: Path


@pytest.fixture(scope="session")
def web_server(
    demo_district: DemoDistrict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebServer]:
    demo = demo_district.copy_to(tmp_path_factory.mktemp("web") / "demo")
    port = _free_port()
    env = {
        **os.environ,
        "COVERPLAN_DATA_DIR": str(demo.data_dir),
        "COVERPLAN_OUT_DIR": str(demo.out_dir),
    }
    for key in ("COVERPLAN_DB_URL", "COVERPLAN_SECRET", "COVERPLAN_CONFIG"):
        env.pop(key, None)
    log = demo.root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [COVERPLAN, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=demo.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"coverplan serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    try:
        yield WebServer(base, demo, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system's Chromium through Playwright's sync API, one per test module: the
    sync API runs an event loop in this thread while it is open, which other tests
    on the same xdist worker (asyncio.run, ast) must not find still running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Browse:
    """One browser context (its own cookies) with the checks every page gets."""

    server: WebServer
    context: Any
    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def goto(self, path: str, *, wait: str = "load") -> Any:
        return self.page.goto(self.server.base + path, wait_until=wait)

    def login(self, role: str, *, password: str | None = None) -> Any:
        self.goto("/login")
        self.page.fill("input[name=username]", role)
        self.page.fill("input[name=password]", password or PASSWORDS[role])
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        return self.page

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.outside == [], self.outside


def _watch(b: Browse) -> None:
    base_host = urlsplit(b.server.base).hostname

    def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == base_host:
            route.continue_()
        else:
            b.outside.append(url)
            route.abort()

    b.context.route("**/*", guard)

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            b.console_errors.append(f"{msg.text} @ {msg.location}")

    b.context.on("console", on_console)

    def on_page(p: Any) -> None:
        p.on("pageerror", lambda exc: b.console_errors.append(f"pageerror: {exc}"))

    b.context.on("page", on_page)


@pytest.fixture
def browse(web_server: WebServer, browser: Any) -> Iterator[Any]:
    """``browse()`` → a fresh :class:`Browse` (desktop 1366×768; ``phone=True``: 390×844)."""
    opened: list[Browse] = []

    def make(*, phone: bool = False) -> Browse:
        context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="zh-CN")
        b = Browse(web_server, context, page=None)
        _watch(b)
        b.page = context.new_page()
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.context.close()


# --- The user guides' screenshots (tests/web/test_zz_guides.py) --------------------------

collected_at = pytest.StashKey[float]()


def pytest_collection_modifyitems(config: pytest.Config) -> None:
    """Stash the collection time: the screenshots of this run are newer."""
    config.stash[collected_at] = time.time()
