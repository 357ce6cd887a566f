"""Families (households, 残疾人家庭): which registered residents live together.

The 十四五 indicator 符合条件残疾人家庭无障碍改造率 and the retrofit list count
families, not persons. A family is found by a stated rule (:data:`FAMILY_RULE`):

1. **户号**: residents with the same 户号 (``household_id``, compared after NFKC
   and without white space, upper case) are one family, whatever their village.
2. **Same address**: a resident without 户号 whose normalised address
   (:func:`geo.geocode.normalize_address`) names a house (a number followed by
   号) joins the residents of the same village at that address: the family of
   their 户号 when they all have the same one, else the family of those without
   a 户号 there.
3. **Alone**: anyone else (no 户号, and no house address or no village) is a
   family of one.

Only counted residents are grouped: those awaiting review (``needs_review`` or no
village) belong to no family (:func:`awaiting_review`). Addresses are used only
to compare them; they never leave this module. Pure: frames in, Series out.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.geocode import normalize_address

__all__ = [
    "BASIS_LABELS",
    "FAMILY_RULE",
    "FamilyBasis",
    "awaiting_review",
    "family_basis",
    "family_keys",
    "family_number",
    "house_address",
    "household_number",
]

FamilyBasis = Literal["household_id", "address", "single"]
#: How a family was found, in Chinese (CSV/XLSX and the text summary).
BASIS_LABELS: dict[FamilyBasis, str] = {
    "household_id": "户号",
    "address": "同村同址",
    "single": "单人",
}
#: The grouping rule, as reports state it.
FAMILY_RULE = (
    "家庭按户号识别：户号相同者为一户；无户号者与同村社、同一门牌地址（规范化后含“号”）"
    "的残疾人为一户（该址有户号者户号一致时并入该户）；其余各为一户。待核查人员不计。"
)
_KEY_HOUSEHOLD = "户号:"
_KEY_ADDRESS = "址:"
_KEY_SINGLE = "人:"
_SPACES = re.compile(r"\s+")
# A house number: digits followed by 号 (12号, 12号3幢101室); a village or a
# group (3组) alone does not name a house.
_HOUSE_NUMBER = re.compile(r"\d+号")


def awaiting_review(residents: pd.DataFrame) -> NDArray[np.bool_]:
    """Residents whose record awaits review (``needs_review`` or no village)."""
    review = residents["needs_review"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return review | residents["village_code"].isna().to_numpy()


def household_number(value: object) -> str | None:
    """A 户号 as compared: NFKC, no white space, upper case; None when blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    s = _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).upper()
    return s or None


def house_address(value: object) -> str | None:
    """The normalised address when it names a house (a number and 号), else None."""
    if not isinstance(value, str):
        return None
    key = normalize_address(value)
    return key if _HOUSE_NUMBER.search(key) else None


def _column(residents: pd.DataFrame, name: str) -> list[object]:
    if name not in residents.columns:
        return [None] * len(residents)
    return residents[name].tolist()


def family_keys(residents: pd.DataFrame) -> pd.Series:
    """The family of each resident, by :data:`FAMILY_RULE`.

    Parameters
    ----------
    residents
        Indexed by resident id, with ``village_code`` and, when known,
        ``household_id`` (户号) and ``address`` (either may be missing: no
        resident has one then). Residents awaiting review should be left out by
        the caller (:func:`awaiting_review`); here they are grouped like anyone.

    Returns
    -------
    pandas.Series
        Same index, one text key per resident: ``户号:<户号>``, ``址:<village>|<address>``
        or ``人:<resident id>``. Equal keys, one family; the key holds the
        normalised address, so it is for grouping only, never for output.
    """
    ids = [str(i) for i in residents.index]
    villages = _column(residents, "village_code")
    numbers = [household_number(v) for v in _column(residents, "household_id")]
    places = [
        f"{v}|{a}" if isinstance(v, str) and (a := house_address(addr)) else None
        for v, addr in zip(villages, _column(residents, "address"), strict=True)
    ]
    # 户号 of the residents at each house: a house with exactly one takes in those without
    at_house: dict[str, set[str]] = {}
    for number, place in zip(numbers, places, strict=True):
        if number is not None and place is not None:
            at_house.setdefault(place, set()).add(number)
    keys: list[str] = []
    for rid, number, place in zip(ids, numbers, places, strict=True):
        if number is not None:
            keys.append(_KEY_HOUSEHOLD + number)
        elif place is not None and len(found := at_house.get(place, set())) == 1:
            keys.append(_KEY_HOUSEHOLD + next(iter(found)))
        elif place is not None:
            keys.append(_KEY_ADDRESS + place)
        else:
            keys.append(_KEY_SINGLE + rid)
    return pd.Series(keys, index=residents.index, dtype=object, name="family")


def family_basis(key: str) -> FamilyBasis:
    """How the family of ``key`` (from :func:`family_keys`) was found."""
    if key.startswith(_KEY_HOUSEHOLD):
        return "household_id"
    if key.startswith(_KEY_ADDRESS):
        return "address"
    return "single"


def family_number(key: str) -> str | None:
    """The 户号 of the family of ``key``, None when it was not found by 户号."""
    return key.removeprefix(_KEY_HOUSEHOLD) if key.startswith(_KEY_HOUSEHOLD) else None
