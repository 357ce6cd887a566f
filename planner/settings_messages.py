"""Configuration errors in Chinese: one message per validation error, naming the TOML
key path (``facility_types.home.threshold_min``), the bad value as written in TOML,
and the fix (the valid keys near a misspelt one)."""

from __future__ import annotations

import difflib
import re
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

__all__ = ["key_path", "validation_messages"]

_SHOW_CHARS = 60  # a bad value longer than this is shortened in the message
_ERROR_TEXT = {
    "less_than_equal": "应 ≤ {le}",
    "less_than": "应 < {lt}",
    "greater_than_equal": "应 ≥ {ge}",
    "greater_than": "应 > {gt}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字（加引号）",
    "dict_type": "应为一个表（[节] 或 {{ 键 = 值 }}）",
    "model_type": "应为一个表（[节] 或 {{ 键 = 值 }}）",
    "model_attributes_type": "应为一个表（[节] 或 {{ 键 = 值 }}）",
    "list_type": "应为列表（[ … ]）",
    "path_type": "应为路径",
    "missing": "缺少必填项",
}


def _unwrap(tp: Any) -> Any:
    """``X`` from ``X | None``."""
    if get_origin(tp) in (Union, type(int | None)):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class of the table at ``loc`` below ``root`` (None if not a model)."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = tp.model_fields
            name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
            if name is None:
                return None
            tp = fields[name].annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def key_path(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as a TOML key path: ``a.b[0].c``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _show(value: Any) -> str:
    """``value`` as it is written in TOML, shortened to :data:`_SHOW_CHARS`."""
    text = _toml(value)
    return text if len(text) <= _SHOW_CHARS else text[: _SHOW_CHARS - 1] + "…"


def validation_messages(
    exc: ValidationError, *, root: type[BaseModel], name: Any = key_path
) -> list[str]:
    """One Chinese message per error of ``exc``, naming the key path and the fix.

    Parameters
    ----------
    exc
        The error of validating ``root``.
    root
        The model validated (to find the valid keys near an unknown one).
    name
        Turns an error's location into the name shown (default: ``a.b[0].c``).
    """
    out: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = name(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            model = _model_at(root, loc[:-1])
            keys = (
                [f.alias or n for n, f in model.model_fields.items()] if model is not None else []
            )
            close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
            if close:
                hint = f"是否为 {name((*loc[:-1], close[0]))}？"
            else:
                hint = f"可用的配置项：{'、'.join(keys)}" if keys else "请删除该项"
            out.append(f"配置项 {path} 不存在；{hint}")
            continue
        if kind == "missing":
            out.append(f"配置项 {path} 缺失：请补上该项")
            continue
        ctx = err.get("ctx") or {}
        if kind in ("value_error", "assertion_error") and "error" in ctx:
            reason = str(ctx["error"])
        elif kind == "literal_error":  # expected: "'review' or 'reject'"
            expected = str(ctx.get("expected", ""))
            choices = re.findall(r"'([^']*)'", expected) or re.findall(r"[^\s,]+", expected)
            choices = [c for c in choices if c != "or"]
            reason = f"应为 {'、'.join(choices)} 之一"
        elif kind in _ERROR_TEXT:
            reason = _ERROR_TEXT[kind].format(**{k: _show(v) for k, v in ctx.items()})
        else:
            reason = err["msg"]
        out.append(f"配置项 {path} 的值 {_show(err.get('input'))} 无效：{reason}")
    return out
