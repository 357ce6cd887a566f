"""File uploads (``multipart/form-data``) streamed to a temporary file under a size cap.

:func:`receive_file` parses the request body as it arrives (python-multipart's
streaming parser) and writes the one file field to a directory the caller owns,
counting its bytes: above ``[server] upload_max_mb`` it stops reading at once and
raises :class:`~planner.errors.TooLargeError` (HTTP 413), before anything is
stored. A declared ``Content-Length`` far above the cap is refused before reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from planner.errors import InputError, TooLargeError

__all__ = ["FILE_FIELD", "Uploaded", "multipart_body", "receive_file"]

#: The form field holding the file.
FILE_FIELD = "file"
#: Bytes of multipart framing (boundaries, part headers, other fields) allowed on
#: top of the file itself before a declared Content-Length is refused outright.
FRAMING_BYTES = 64 * 1024
MEGABYTE = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\-（）()\u4e00-\u9fff]+")


#: Characters kept of each plain (non-file) form field (a web form's ``csrf``, ``kind``).
FIELD_MAX_CHARS = 200
#: Plain form fields kept at most.
FIELDS_MAX = 16


@dataclass(frozen=True)
class Uploaded:
    """The uploaded file: its name as the caller sent it (made safe), where it was
    written, and its size in bytes; ``fields``: the form's other (plain) fields,
    each cut to :data:`FIELD_MAX_CHARS` characters (the web pages' ``csrf``, ``kind``)."""

    name: str
    path: Path
    size: int
    fields: dict[str, str] = field(default_factory=dict)


def multipart_body(description: str) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an upload route (``openapi_extra``)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FILE_FIELD],
                        "properties": {
                            FILE_FIELD: {
                                "type": "string",
                                "format": "binary",
                                "description": description,
                            }
                        },
                    }
                }
            },
        }
    }


def _safe_name(raw: str, *, suffixes: tuple[str, ...]) -> str:
    name = _UNSAFE.sub("_", Path(raw.replace("\\", "/")).name).strip("._") or "upload"
    if Path(name).suffix.lower() not in suffixes:
        raise InputError(
            f"上传的文件「{name}」类型不对：应为 {'、'.join(suffixes)} 文件（看文件扩展名）"
        )
    return name[-120:]


def _too_large(max_mb: float) -> TooLargeError:
    return TooLargeError(
        f"上传的文件超过 {max_mb:g} MB（配置 [server] upload_max_mb），未导入任何数据；"
        "请拆分文件后分别上传，或请管理员调大该设置"
    )


def _boundary(request: Request, *, limit: int, max_mb: float) -> bytes:
    """The multipart boundary of ``request`` (TooLargeError for a declared body far
    above ``limit`` bytes, InputError for a request that is not a multipart form)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FRAMING_BYTES:
        raise _too_large(max_mb)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise InputError(
            "请以 multipart/form-data 表单上传文件，文件放在字段「file」中"
            "（如 curl -F file=@名单.xlsx …）"
        )
    return bytes(boundary)


class _PlainFields:
    """The plain (non-file) fields of a form: at most :data:`FIELDS_MAX`, each cut
    to :data:`FIELD_MAX_CHARS` characters."""

    def __init__(self) -> None:
        self.values: dict[str, bytearray] = {}
        self.current: bytearray | None = None

    def begin(self, name: bytes) -> None:
        key = name.decode("utf-8", "replace")
        if key and (key in self.values or len(self.values) < FIELDS_MAX):
            self.current = self.values.setdefault(key, bytearray())

    def add(self, data: bytes) -> None:
        room = FIELD_MAX_CHARS * 4 - len(self.current) if self.current is not None else 0
        if room > 0 and self.current is not None:
            self.current.extend(data[:room])

    def texts(self) -> dict[str, str]:
        return {
            k: bytes(v).decode("utf-8", "replace")[:FIELD_MAX_CHARS] for k, v in self.values.items()
        }


async def receive_file(
    request: Request, *, dest: Path, max_mb: float, suffixes: tuple[str, ...]
) -> Uploaded:
    """Stream the request's ``file`` field into ``dest`` (a directory), at most ``max_mb``.

    Parameters
    ----------
    request
        A ``multipart/form-data`` request with one file field named ``file``.
    dest, max_mb
        The directory to write to (the caller's temporary directory); the largest
        file accepted, megabytes (``[server] upload_max_mb``).
    suffixes
        The file name endings accepted (lower case, with the dot).

    Raises
    ------
    TooLargeError
        The file (or the declared body) is above the cap; nothing is kept.
    InputError
        Not a multipart form, no ``file`` field, or a file of another type.
    """
    limit = int(max_mb * MEGABYTE)
    boundary = _boundary(request, limit=limit, max_mb=max_mb)
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "out": None, "size": 0}
    found: list[Uploaded] = []
    fields = _PlainFields()

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if disp.get(b"name") == FILE_FIELD.encode() and b"filename" in disp and not found:
            raw = disp[b"filename"].decode("utf-8", "replace")
            name = _safe_name(raw, suffixes=suffixes)
            path = dest / name
            state["out"] = path.open("wb")
            found.append(Uploaded(name=name, path=path, size=0))
        elif b"filename" not in disp:
            fields.begin(disp.get(b"name", b""))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        out = state["out"]
        if out is None:
            fields.add(data[start:end])
            return
        state["size"] += end - start
        if state["size"] > limit:
            raise _too_large(max_mb)
        out.write(data[start:end])

    def on_part_end() -> None:
        fields.current = None
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except TooLargeError:
        raise
    except (InputError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"上传的表单无法解析（{exc}）；请用 multipart/form-data 上传") from None
    finally:
        if state["out"] is not None:
            state["out"].close()
    if not found:
        raise InputError("请求中没有上传文件：请把文件放在表单字段「file」中（带文件名）")
    return Uploaded(
        name=found[0].name, path=found[0].path, size=state["size"], fields=fields.texts()
    )
