"""The ``retrofit`` action on a store built through the importers: options
checked up front, ID numbers masked per ``[privacy]``, names never loaded."""

from __future__ import annotations

import json
from datetime import date

import pytest

from planner.errors import InputError
from planner.services.retrofit import RetrofitOptions, retrofit
from planner.settings import Config
from planner.store.core import Store
from tests.api.test_cli_retrofit import NAMES, district

__all__ = ["district"]  # the fixture, re-used


def test_masked_ids_follow_the_privacy_settings(
    district: tuple[Store, list[str]], config: Config
) -> None:
    store, ids = district
    privacy = config.privacy.model_copy(update={"id_keep_head": 3, "id_keep_tail": 2})
    strict = config.model_copy(update={"privacy": privacy})
    plan = retrofit(store, config=strict, options=RetrofitOptions(year=2025, quota=2))
    # 王一 (ids[0]) first, as in the CLI test
    assert plan.selected["masked_id"].iloc[0] == ids[0][:3] + "*" * 13 + ids[0][-2:]
    text = json.dumps(plan.to_json(), ensure_ascii=False) + plan.text(top=5)
    assert not any(name in text for name in NAMES)
    assert not any(idn in text for idn in ids)
    default = retrofit(store, config=config, options=RetrofitOptions(year=2025, quota=2))
    assert default.selected["masked_id"].iloc[0] == ids[0][:6] + "*" * 8 + ids[0][-4:]


def test_the_year_defaults_to_this_year(district: tuple[Store, list[str]], config: Config) -> None:
    store, _ = district
    assert retrofit(store, config=config, options=RetrofitOptions()).year == date.today().year


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"quota": -1}, "名额"),
        ({"budget": -5.0}, "预算"),
        ({"budget": float("nan")}, "预算"),
        ({"year": 0}, "年份无效"),
        ({"communities_top": -1}, "候选村社数"),
    ],
)
def test_bad_options_are_refused_before_reading(options: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        RetrofitOptions(**options)  # type: ignore[arg-type]
