"""Body field types that accept exactly what their JSON schema says.

Pydantic's lax mode turns ``true`` into ``1`` and ``"20"`` into ``20`` for an
``int`` or ``float`` field, while the OpenAPI says ``integer``/``number``: a
client (or schemathesis' ``negative_data_rejection`` check) sending a boolean or
a string would be answered 2xx for a schema-violating body. :data:`NUMBER_ONLY`
refuses both (422) and still takes a JSON number with no fraction (``20.0``) for
an integer, as JSON Schema does. Put it after the constraints so that they stay
in the schema::

    capacity: Annotated[int, Field(ge=0), NUMBER_ONLY] | None = None
"""

from __future__ import annotations

import re

from pydantic import BeforeValidator

from planner.errors import InputError

__all__ = ["NUMBER_ONLY", "unknown_type"]

#: What a facility type key looks like when echoed back: letters and underscores
#: only (a caller's value with digits is not repeated: it may be an ID number or a
#: phone typed into the wrong field, and answers and logs must not carry those).
_ECHOABLE = re.compile(r"[A-Za-z_]{1,64}")


def _number_only(value: object) -> object:
    if isinstance(value, bool | str | bytes):
        raise ValueError("应为数字（不能是字符串或 true/false）")
    return value


#: Validator of a numeric body field: a JSON number, never ``true`` or ``"20"``.
NUMBER_ONLY = BeforeValidator(_number_only)


def unknown_type(value: str, known: list[str]) -> InputError:
    """The 422 for a facility type ``value`` not among ``known`` (the
    ``[facility_types]`` keys): it names the value only when it looks like a key."""
    shown = f"type={value}" if _ECHOABLE.fullmatch(value) else "type 的值"
    return InputError(
        f"未知的设施类型 {shown}；可选：{'、'.join(known)}（配置 [facility_types]）",
        value=value if _ECHOABLE.fullmatch(value) else None,
    )
