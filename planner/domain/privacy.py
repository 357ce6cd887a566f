"""Masking of personal data, defined once (PIPL: ID numbers, phones, names).

Every output that shows a person goes through these functions with the
``[privacy]`` settings of the configuration (``privacy=config.privacy``); the
defaults equal the packaged TOML (ID ``330213********1234``, phone
``138****5678``, name ``张*``).
"""

from __future__ import annotations

from planner.settings import PrivacyConfig

__all__ = ["mask_id", "mask_name", "mask_phone"]

_DEFAULT = PrivacyConfig()
MASK_CHAR = "*"


def _mask(text: str | None, *, keep_head: int, keep_tail: int) -> str:
    if not isinstance(text, str) or not text:  # None, or NaN from a frame's empty cell
        return ""
    n = len(text)
    if keep_head + keep_tail >= n:
        return MASK_CHAR * n
    return text[:keep_head] + MASK_CHAR * (n - keep_head - keep_tail) + text[n - keep_tail :]


def mask_id(number: str | None, *, privacy: PrivacyConfig | None = None) -> str:
    """An ID number with its middle masked, e.g. ``330213********1234``.

    Parameters
    ----------
    number
        The ID number (``None`` or empty gives ``""``).
    privacy
        ``[privacy]`` settings: characters kept at the head and the tail.
    """
    p = privacy or _DEFAULT
    return _mask(number, keep_head=p.id_keep_head, keep_tail=p.id_keep_tail)


def mask_phone(phone: str | None, *, privacy: PrivacyConfig | None = None) -> str:
    """A phone number with its middle masked, e.g. ``138****5678``."""
    p = privacy or _DEFAULT
    return _mask(phone, keep_head=p.phone_keep_head, keep_tail=p.phone_keep_tail)


def mask_name(name: object) -> str:
    """A name with all but its first character masked, e.g. ``张*``."""
    s = "" if name is None else str(name).strip()
    if len(s) <= 1:
        return MASK_CHAR * len(s)
    return s[0] + MASK_CHAR * (len(s) - 1)
