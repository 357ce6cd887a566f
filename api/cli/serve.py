"""``coverplan serve``: the HTTP API (:func:`api.http.app.create_app`) on uvicorn,
on the same store (``--db`` / ``COVERPLAN_DB_URL``) and configuration
(``--config`` / ``COVERPLAN_CONFIG``) as the other commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

Add = Callable[[str, str], argparse.ArgumentParser]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.http.app import create_app
    from planner.settings import reset_settings

    if args.config:
        os.environ["COVERPLAN_CONFIG"] = args.config
        reset_settings()
    app = create_app(db_url=args.db, config_path=args.config, demo=args.demo)
    print(
        f"coverplan 已启动：网页 http://{args.host}:{args.port}/ ，"
        f"接口 http://{args.host}:{args.port}/openapi.json（Ctrl+C 停止）",
        file=sys.stderr,
    )
    # uvicorn's access log shows query strings; the app logs requests without them
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def register(sub: Any, add: Add) -> None:
    """Add ``serve`` to the ``coverplan`` parser."""
    p = sub.add_parser(
        "serve",
        help="启动接口服务（HTTP API，/openapi.json 为接口说明）",
        description="启动接口服务（需环境变量 COVERPLAN_SECRET；演示库可用 --demo）",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"监听地址（默认 {DEFAULT_HOST}）")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"端口（默认 {DEFAULT_PORT}）")
    p.add_argument("--config", help="配置文件（TOML，默认取 COVERPLAN_CONFIG）")
    p.add_argument(
        "--demo",
        action="store_true",
        help="演示模式：未设置 COVERPLAN_SECRET 时用公开的演示密钥（仅限 coverplan demo 生成的库）",
    )
    p.set_defaults(func=cmd_serve)
