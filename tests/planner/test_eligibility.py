from datetime import date

import pandas as pd
import pytest

from planner.domain.eligibility import age_years, eligibility_table, eligible_mask
from planner.errors import ConfigError
from planner.settings import Config, Eligibility

TODAY = date(2026, 11, 1)


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": [
                "intellectual",
                "psychiatric",
                "psychiatric",
                "physical",
                "hearing",
                "physical",
            ],
            "grade": [3, 4, 1, 1, 2, 4],
            "birth_date": [
                date(1990, 1, 1),
                date(1967, 11, 2),
                date(1980, 5, 5),
                date(1940, 1, 1),
                date(2015, 6, 1),
                date(2008, 11, 1),
            ],
            "supervised_medication": [False, True, True, None, False, False],
            "bedridden": [False, False, False, True, False, False],
        }
    )


def test_age_is_completed_years() -> None:
    ages = age_years(
        pd.Series([date(1967, 11, 2), date(1967, 11, 1), date(2008, 11, 1)]), today=TODAY
    )
    assert ages.tolist() == [58, 59, 18]


def test_default_rules(config: Config) -> None:
    table = eligibility_table(people(), config, today=TODAY)
    # 残疾人之家: working-age (16–59) intellectual/psychiatric, grades 3–4
    assert table["home"].tolist() == [True, True, False, False, False, False]
    assert table["psych_station"].tolist() == [False, True, True, False, False, False]
    # children's rehab: under 18 (the 2008-11-01 person turned 18 today)
    assert table["child_rehab"].tolist() == [False, False, False, False, True, False]
    assert table["service_window"].all()
    assert table["care_center"].tolist() == [False, False, True, True, True, False]


def test_flag_rule() -> None:
    rule = Eligibility(categories=["psychiatric"], flags=["supervised_medication"])
    assert eligible_mask(people(), rule, today=TODAY).tolist() == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]


def test_unknown_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="未知的标记"):
        eligible_mask(people(), Eligibility(flags=["nonsense"]), today=TODAY)
