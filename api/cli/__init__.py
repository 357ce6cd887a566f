"""The ``coverplan`` command line.

User mistakes end with a Chinese message on stderr and exit status 2, never a
traceback. ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from collections.abc import Sequence
from contextlib import suppress
from typing import NoReturn

from api.cli import accounts as cli_accounts
from api.cli import coverage as cli_coverage
from api.cli import district as cli_district
from api.cli import imports as cli_imports
from api.cli import maps as cli_maps
from api.cli import network as cli_network
from api.cli import outreach as cli_outreach
from api.cli import retrofit as cli_retrofit
from api.cli import scenarios as cli_scenarios
from api.cli import serve as cli_serve
from api.cli import site as cli_site
from api.cli import visits as cli_visits
from api.cli._common import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USER_ERROR, error_line
from api.cli.output import command_output
from geo.errors import CoverplanError

_ARGPARSE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^argument (.+?): invalid int value: '(.*)'$", r"参数 \1 的值「\2」不是整数"),
        (r"^argument (.+?): invalid float value: '(.*)'$", r"参数 \1 的值「\2」不是数字"),
        (
            r"^argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)$",
            r"参数 \1 的值「\2」无效；可选：\3",
        ),
        (r"^argument (.+?): expected one argument$", r"参数 \1 后面需要一个值"),
        (r"^argument (.+?): expected at least one argument$", r"参数 \1 后面至少需要一个值"),
        (r"^argument (.+?): not allowed with argument (.+)$", r"参数 \1 不能与 \2 同时使用"),
        (r"^argument (.+?): (.+)$", r"参数 \1：\2"),
        (r"^the following arguments are required: (.+)$", r"缺少参数：\1"),
        (r"^one of the arguments (.+) is required$", r"需要以下参数之一：\1"),
        (r"^unrecognized arguments: (.+)$", r"不认识的参数：\1"),
    )
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error messages are Chinese (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        for pattern, text in _ARGPARSE_MESSAGES:
            if pattern.match(message):
                message = pattern.sub(text, message)
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：{message}（{self.prog} -h 查看用法）\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coverplan", description="残疾人服务覆盖规划（coverplan）")
    parser.add_argument("--db", help="数据库地址（默认取 COVERPLAN_DB_URL 或 var/coverplan.db）")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, helptext: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return p

    for module in (cli_district, cli_imports, cli_network, cli_coverage):
        module.register(sub, add)

    p = add("site", "选址：新建与升级方案（最大覆盖、最小出行时间、最少新建）及前后对比")
    cli_site.add_arguments(p)
    p.set_defaults(func=cli_site.cmd_site)

    p = add("scenarios", "方案：列出、查看、对比、删除已保存的方案")
    cli_scenarios.add_arguments(p)

    p = add("retrofit", "家庭无障碍改造优先排序与无障碍社区候选")
    cli_retrofit.add_arguments(p)
    p.set_defaults(func=cli_retrofit.cmd_retrofit)

    p = sub.add_parser(
        "outreach", help="康复入村社：全年日历、当月方案与路线单", description="康复入村社"
    )
    cli_outreach.add_arguments(p)

    p = sub.add_parser("visits", help="入户记录：导入填好的路线单、逐条登记")
    cli_visits.add_arguments(p)

    for module in (cli_accounts, cli_serve):
        module.register(sub, add)
    cli_maps.register(sub, add)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coverplan`` console script.

    Returns the exit status: 0, 2 for a user mistake (a Chinese message on
    stderr, never a traceback), 130 when interrupted, 141 when the reader of the
    output went away (``coverplan … | head``; nothing more is printed).
    """
    try:
        args = build_parser().parse_args(argv)  # --help too may meet a closed pipe
        if args.db:
            os.environ["COVERPLAN_DB_URL"] = args.db
        with command_output(json_mode=bool(getattr(args, "json", False))):
            return _run(args)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except CoverplanError as exc:
        error_line(str(exc))
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已中断；数据库未做任何更改。", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as exc:
        message = _environment_message(exc)
        if message is None:
            raise
        error_line(message)
        return EXIT_USER_ERROR


_OS_REASONS = {
    errno.ENOENT: "路径不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录，应给出文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EEXIST: "已存在同名文件，无法在此创建目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "所在文件系统只读",
    errno.ENAMETOOLONG: "路径太长",
}


def _environment_message(exc: Exception) -> str | None:
    """A Chinese message for a failure of the user's files or database, else None.

    Covers an ``OSError`` naming a file (an unwritable ``--out``, a directory
    given as a file, a full disk) and a database that cannot be reached or
    written (the URL shown without its password).
    """
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = _OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))
        return f"无法读写「{exc.filename}」：{reason}；请检查路径与权限（如 --out 目录可写）"
    from planner.settings import get_settings
    from planner.store.core import database_error_message

    return database_error_message(exc, url=get_settings().store_url)


def _discard_stdout() -> None:
    """Point stdout at the null device, so that exiting flushes nothing to a closed pipe."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
