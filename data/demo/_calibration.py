"""The calibration of the demo's people: target figures for the valid persons.

Each figure comes from the published 奉化 figures (or a neighbouring
district's) in the project's domain brief (``shared/DOMAIN.md``), as noted per
constant; ``data/demo/README.md`` compares them with what the generator makes.
"""

from __future__ import annotations

# DOMAIN.md: 14,662 persons in the 2024 survey of 奉化; the demo has this many valid rows.
VALID_PERSONS = 14_600
# DOMAIN.md: category mix of a neighbouring district's 8,723 certified persons (percent).
CATEGORY_SHARES: dict[str, float] = {
    "肢体残疾": 50.6,
    "听力残疾": 16.6,
    "精神残疾": 13.8,
    "视力残疾": 8.5,
    "智力残疾": 6.7,
    "多重残疾": 3.2,
    "言语残疾": 0.6,
}
CATEGORIES = tuple(CATEGORY_SHARES)
GRADES = ("一级", "二级", "三级", "四级")
# DOMAIN.md: aged 60+ = 68.4 % in the neighbouring district.
ELDERLY_SHARE = 0.68
ELDERLY_AGE = 60  # years
# DOMAIN.md: 6,950 receive the severe-disability care subsidy (grades 1–2 only).
CARE_SUBSIDY_PERSONS = 6_950
# DOMAIN.md: 3,497 receive the living subsidy for the poor (mostly 低保/低边).
LIVING_SUBSIDY_PERSONS = 3_497
LIVING_SUBSIDY_OUTSIDE_LOW_INCOME = 40  # about this many receive it without 低保/低边
LOW_INCOME_DIBAO_SHARE = 0.62  # of 低保/低边 households, the 低保 share
# Policy gaps: villages where eligible people are not reached.
GAP_VILLAGES = 8
GAP_MIN_RESIDENTS = 25
GAP_MISSING_SHARE = 0.6  # of the eligible in a gap village, the share without the subsidy
ELSEWHERE_MISSING_SHARE = 0.01  # elsewhere
BEDRIDDEN_SHARE = 0.03
WHEELCHAIR_USERS = 920
WHEELCHAIR_PHYSICAL_SEVERE_SHARE = 0.85
PSYCH_SUPERVISED_SHARE = 0.72  # of psychiatric persons, under supervised medication
STROKE_AFTERCARE = 650
STROKE_MIN_AGE = 45  # years
STROKE_PHYSICAL_SHARE = 0.88
# DOMAIN.md: about 420 people placed in the 13 work-therapy homes (2024).
WORKSHOP_PLACED = 420
SUPPORTED_EMPLOYMENT = 160
EMPLOYED_SHARE = 0.30  # of working-age persons not in a workshop
WORKING_AGE = (16, 59)  # years, inclusive
# DOMAIN.md: 150 home accessibility retrofits in 2020, 122 in 2024; other years similar.
RETROFITS_BY_YEAR: dict[int, int] = {
    2016: 96, 2017: 104, 2018: 118, 2019: 136, 2020: 150, 2021: 131,
    2022: 127, 2023: 119, 2024: 122, 2025: 115, 2026: 64,
}  # fmt: skip
REASSESS_DUE_SOON = 320  # re-assessment due within the next 365 days
REASSESS_OVERDUE = 45  # re-assessment date already passed (up to 180 days)
REASSESS_LATER = 2_600  # due in 1–5 years
VISIT_RECENT_SHARE = 0.86  # last home visit within 730 days
VISIT_OLD_SHARE = 0.08  # 731–1,800 days ago; the rest never visited (blank)
GAP_VISIT_RECENT_SHARE = 0.45
GAP_VISIT_OLD_SHARE = 0.30
HOUSEHOLD_GPS_SHARE = 0.15
FLAG_BLANK_SHARE = 0.01  # 独居/老养残/长期卧床/使用轮椅 left blank
OFFICIAL_NAME_SHARE = 0.04  # rows that write the official village name (…村委会)
ALIAS_ROWS = 20  # rows that write a village's pre-merger alias (see villages.geojson 别名)
MIN_PER_VILLAGE = 4
# DOMAIN.md: 992 assistive-device fittings a year; about this many devices fall due.
DEVICES_DUE = 1_000
DEVICE_HISTORY_YEARS = 10
DEVICE_LIFE_YEARS: dict[str, int] = {
    "轮椅": 5, "护理床": 8, "坐便椅": 5, "助行器": 5, "拐杖": 3, "假肢": 4,
    "助听器": 5, "盲杖": 3, "助视器": 5,
}  # fmt: skip
LEADS = 150
LEADS_WITH_ID = 75
