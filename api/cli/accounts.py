"""``coverplan users add|list|disable`` and ``coverplan keys add|list|revoke``:
accounts and API keys of the HTTP API (:mod:`planner.services.accounts`).

A password is read from a prompt (twice) or, with ``--password-stdin``, from the
first line of standard input; never from the command line (shell history).
An API key is printed once; only its prefix and SHA-256 are stored.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from api.cli._common import command_config, district_store, split_names
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]


def _read_password(args: argparse.Namespace) -> str:
    from planner.errors import AccountError

    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise AccountError("--password-stdin：标准输入的第一行为空；请输入密码")
        return password
    if not sys.stdin.isatty():
        raise AccountError("没有终端可输入密码；请用 --password-stdin 从标准输入读入密码")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输一次：") != first:
        raise AccountError("两次输入的密码不一致；请重新运行")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from planner.services.accounts import UserOptions, add_user

    store = district_store(args)
    options = UserOptions(
        username=args.username,
        password=_read_password(args),
        role=args.role,
        team=args.team,
        towns=tuple(split_names(args.towns)),
    )
    info = add_user(store, config=command_config(), options=options)
    if args.json:
        print_json(info.to_json())
    else:
        print(f"已添加用户 {info.username}（角色 {info.role}）")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from planner.services.accounts import list_users

    users = list_users(district_store(args))
    if args.json:
        print_json({"users": [u.to_json() for u in users]})
        return 0
    if not users:
        print("还没有用户；添加：coverplan users add 用户名 --role admin")
    for u in users:
        state = "已停用" if u.disabled else "正常"
        extra = f" 服务队 {u.team} 镇街 {','.join(u.towns)}" if u.team else ""
        print(f"{u.username}\t{u.role}\t{state}{extra}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from planner.services.accounts import disable_user

    disable_user(district_store(args), args.username)
    if args.json:
        print_json({"username": args.username, "disabled": True})
    else:
        print(f"已停用用户 {args.username}（其令牌立即失效）")
    return 0


def cmd_keys_add(args: argparse.Namespace) -> int:
    from planner.services.accounts import add_key

    new = add_key(district_store(args), name=args.name, scopes=tuple(split_names(args.scopes)))
    if args.json:
        print_json(new.to_json())
    else:
        print(f"密钥（只显示这一次，请妥善保存）：{new.key}")
        print(
            f"前缀 {new.info.prefix}，权限 {','.join(new.info.scopes)}；"
            f"吊销：coverplan keys revoke {new.info.prefix}"
        )
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from planner.services.accounts import list_keys

    keys = list_keys(district_store(args))
    if args.json:
        print_json({"keys": [k.to_json() for k in keys]})
        return 0
    if not keys:
        print("还没有密钥；添加：coverplan keys add 名称 --scopes read:aggregates")
    for k in keys:
        state = "已吊销" if k.revoked_at else "有效"
        print(f"{k.prefix}\t{k.name}\t{','.join(k.scopes)}\t{state}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from planner.services.accounts import revoke_key

    revoke_key(district_store(args), args.prefix)
    if args.json:
        print_json({"prefix": args.prefix, "revoked": True})
    else:
        print(f"已吊销密钥 {args.prefix}")
    return 0


def register(sub: Any, add: Add) -> None:
    """Add ``users`` and ``keys`` to the ``coverplan`` parser."""
    from planner.domain.access import SCOPES, Role

    roles = [r.value for r in Role if r is not Role.INTEGRATION]
    users = sub.add_parser("users", help="接口账户：添加、列出、停用（管理员）")
    usub = users.add_subparsers(dest="users_command", required=True)

    def uadd(name: str, helptext: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = usub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return p

    p = uadd("add", "添加账户（密码从提示或 --password-stdin 读入，不写在命令行上）")
    p.add_argument("username", help="用户名（字母、数字、_ . -）")
    p.add_argument("--role", required=True, choices=roles, help="角色")
    p.add_argument("--team", help="外联账户的入户服务队（[outreach.teams] 的键，如 A）")
    p.add_argument("--towns", help="外联账户负责的镇街代码，逗号分隔（如 330213001,330213002）")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读入密码")
    p.set_defaults(func=cmd_users_add)
    p = uadd("list", "列出账户（不显示密码）")
    p.set_defaults(func=cmd_users_list)
    p = uadd("disable", "停用账户（其令牌立即失效）")
    p.add_argument("username")
    p.set_defaults(func=cmd_users_disable)

    keys = sub.add_parser("keys", help="系统调用密钥：添加、列出、吊销（管理员）")
    ksub = keys.add_subparsers(dest="keys_command", required=True)

    def kadd(name: str, helptext: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = ksub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return p

    p = kadd("add", "生成密钥（只显示一次）")
    p.add_argument("name", help="调用方名称（如 民政系统）")
    p.add_argument("--scopes", required=True, help=f"权限，逗号分隔：{','.join(SCOPES)}")
    p.set_defaults(func=cmd_keys_add)
    p = kadd("list", "列出密钥（只显示前缀）")
    p.set_defaults(func=cmd_keys_list)
    p = kadd("revoke", "吊销密钥")
    p.add_argument("prefix", help="密钥前缀（8 位，见 keys list）")
    p.set_defaults(func=cmd_keys_revoke)
