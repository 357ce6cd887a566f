"""The project's exception hierarchy.

Every error a user can cause derives from :class:`CoverplanError`; the CLI and the
API print its message (in Chinese, actionable) instead of a traceback. It lives in
the lowest layer so that ``geo`` and ``planner`` share one base class.
"""

from __future__ import annotations


class CoverplanError(Exception):
    """Base class of all errors a district officer can act on."""


class InputError(CoverplanError):
    """A user-supplied file or value cannot be used.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    file, row, column, value
        Where the problem is, when known (row numbers are 1-based file lines).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        where = []
        if file:
            where.append(f"文件 {file}")
        if row is not None:
            where.append(f"第 {row} 行")
        if column:
            where.append(f"列「{column}」")
        if value is not None:
            where.append(f"值「{value}」")
        prefix = "，".join(where)
        super().__init__(f"{prefix}：{message}" if prefix else message)


class CRSError(CoverplanError):
    """Coordinates in an unknown or mixed coordinate system."""


class GazetteerError(CoverplanError):
    """The gazetteer (towns and villages) is missing or inconsistent."""


class NetworkError(CoverplanError):
    """A road network cannot be built or used."""
