"""The text of a response as a reader would see it, for the personal-data scans:
JSON re-serialised without ``\\uXXXX`` escapes, the XML inside an XLSX (or any
zip), else the body decoded as UTF-8."""

from __future__ import annotations

import io
import json
import zipfile


def response_text(content: bytes, content_type: str = "") -> str:
    """Everything readable in a response body."""
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                return "\n".join(
                    z.read(name).decode("utf-8", errors="replace") for name in z.namelist()
                )
        except zipfile.BadZipFile:
            pass
    text = content.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return text + "\n" + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text
