"""Settings (environment) and configuration (TOML), in one typed place.

``Settings`` comes from the environment (prefix ``COVERPLAN_``); ``Config`` comes
from the packaged ``data/config/default.toml`` overlaid with the user's TOML named
by ``COVERPLAN_CONFIG``. Both are cached; tests call :func:`reset_settings`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.graph import ModeProfile
from planner.errors import ConfigError
from planner.settings_maps import MapsConfig
from planner.settings_messages import key_path, validation_messages

Mode = Literal["drive", "walk", "wheelchair"]


class _Section(BaseModel):
    """A TOML table with a fixed set of keys: an unknown (misspelt) key is refused.

    Tables whose keys the user defines (facility types, weights, services, teams)
    are ``dict`` fields and stay open.
    """

    model_config = ConfigDict(extra="forbid")


class Settings(BaseSettings):
    """Process settings, read from ``COVERPLAN_*`` environment variables.

    Attributes
    ----------
    data_dir
        Directory for the default SQLite store and generated demo inputs.
    db_url
        SQLAlchemy URL of the store; defaults to ``sqlite:///<data_dir>/coverplan.db``.
    out_dir
        Directory for reports and other outputs.
    config
        Path of a user TOML overlaid on the packaged defaults.
    secret
        ``COVERPLAN_SECRET``: the key that signs API tokens (HS256), at least
        ``[auth] secret_min_length`` characters; without it ``coverplan serve``
        refuses to start unless in demo mode (``--demo`` on the demo district).
    sqlite_busy_timeout_ms
        How long a write waits for another process's write to finish, in
        milliseconds, before giving up with a clear message; despite the name, on
        PostgreSQL too.
    progress
        ``COVERPLAN_PROGRESS``: ``1`` draws the command line's progress bars even
        when stderr is not a terminal (a log file), ``0`` never draws them; unset,
        bars are drawn only on a terminal (and never with ``--json``).
    """

    model_config = SettingsConfigDict(env_prefix="COVERPLAN_", extra="ignore")

    data_dir: Path = Path("var")
    db_url: str | None = None
    out_dir: Path = Path("out")
    config: Path | None = None
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    secret: str | None = Field(default=None, repr=False)  # COVERPLAN_SECRET: signs API tokens
    progress: bool | None = None  # COVERPLAN_PROGRESS: 1/0 forces the CLI's bars on/off

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL (``db_url`` or the default SQLite file)."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'coverplan.db').as_posix()}"


class ImportConfig(_Section):
    unresolved_village: Literal["review", "reject"] = "review"
    header_search_rows: int = Field(default=15, ge=1, le=200)
    household_point_max_km: float = Field(default=15.0, gt=0)
    geometry_replace_share: float = Field(default=0.2, ge=0, le=1)
    village_area_margin_km: float = Field(default=10.0, gt=0)


class GeocodeConfig(_Section):
    fuzzy_min_score: float = Field(default=80.0, ge=0, le=100)
    fuzzy_margin: float = Field(default=8.0, ge=0, le=100)


class PrivacyConfig(_Section):
    id_keep_head: int = Field(default=6, ge=0, le=17)
    id_keep_tail: int = Field(default=4, ge=0, le=17)
    phone_keep_head: int = Field(default=3, ge=0, le=11)
    phone_keep_tail: int = Field(default=4, ge=0, le=11)
    min_count: int = Field(default=5, ge=1)  # counts 1..min_count-1 are suppressed


class ServerConfig(_Section):
    """The HTTP API's limits (``[server]``): rows per page (default and most),
    upload size in megabytes, solver time in seconds, month plans kept in memory."""

    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    upload_max_mb: float = Field(default=20.0, gt=0)
    solver_seconds_max: float = Field(default=120.0, gt=0)
    plan_cache_months: int = Field(default=6, ge=1)


class AuthConfig(_Section):
    """Accounts and tokens (``[auth]``): token lifetime in minutes, lockout after
    ``lockout_attempts`` failed logins in a row for ``lockout_minutes`` minutes,
    the least length of ``COVERPLAN_SECRET`` (characters) and of a password, and
    at most ``login_per_minute`` sign-in attempts a minute from one client address;
    a web UI session ends after ``session_idle_minutes`` minutes without use."""

    token_minutes: float = Field(default=30.0, gt=0)
    lockout_attempts: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    secret_min_length: int = Field(default=32, ge=16)
    password_min_length: int = Field(default=8, ge=1)
    login_per_minute: int = Field(default=20, ge=1)
    session_idle_minutes: float = Field(default=30.0, gt=0)


class CategoryConfig(_Section):
    label: str
    aliases: list[str] = []


class Eligibility(_Section):
    """Who a facility type serves. Empty lists mean "any"; ages in whole years."""

    categories: list[str] = []
    grades: list[int] = []
    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    flags: list[str] = []

    @field_validator("grades")
    @classmethod
    def _grades_in_range(cls, v: list[int]) -> list[int]:
        if any(g not in (1, 2, 3, 4) for g in v):
            raise ValueError("等级只能是 1、2、3、4")
        return v


class SiteCosts(_Section):
    """Costs and places of a new site and of upgrading an existing one (yuan,
    places). ``capacity``: places of a new site (``None``: no limit)."""

    build_cost: float = Field(default=500_000.0, ge=0)
    capacity: int | None = Field(default=None, ge=0)
    upgrade_cost: float | None = Field(default=None, ge=0)
    upgrade_capacity: int = Field(default=0, ge=0)


class SitingConfig(_Section):
    """Siting defaults (``[siting]``): solver per objective as measured by
    ``make bench-siting``, limits, and the must-have rule per town."""

    time_limit_s: float = Field(default=60.0, gt=0)
    mip_gap: float = Field(default=1e-4, ge=0, lt=1)
    threads: int = Field(default=1, ge=1)
    pmedian_cutoff_factor: float = Field(default=2.0, ge=1)
    unserved_minutes: float = Field(default=120.0, gt=0)
    one_per_town: list[str] = ["home"]
    solver: dict[str, Literal["highs", "cbc"]] = {
        "mclp": "highs",
        "mclp_capacitated": "cbc",
        "pmedian": "highs",
        "pmedian_capacitated": "cbc",
        "lscp": "cbc",
        "lscp_capacitated": "cbc",
        "ties": "highs",
    }


class OutreachService(_Section):
    """A targeted service of the monthly outreach. ``home``: done at home by a
    team with ``skill``; otherwise the person is invited to the service point."""

    label: str
    minutes: float = Field(gt=0)
    skill: str = ""
    priority: float = Field(default=1.0, ge=0)


class OutreachTeam(_Section):
    """A home-visit team (入户服务队) and the skills it carries."""

    label: str
    skills: list[str] = []
    skill_labels: list[str] = []


class OutreachPlace(_Section):
    name: str
    lon: float
    lat: float


class OutreachHops(_Section):
    """Moves between homes whose position is estimated (``[outreach.hops]``).

    A household without a point of its own stands at its village's point; a
    move to or from it within the village takes ``by = "area"``: the mean
    distance between two random points of a disc of the village's area
    (128 R / 45 π, R = √(area / π)) times ``detour``, at the ``mode``'s speed
    (``walk_kmh`` or ``drive_kmh``), or ``by = "fixed"``: ``minutes`` (also used
    for a village without a boundary). Never less than ``min_minutes``, which
    is also the least time of any move between two different addresses."""

    mode: Literal["walk", "drive"] = "drive"
    by: Literal["area", "fixed"] = "area"
    minutes: float = Field(default=5.0, gt=0)
    min_minutes: float = Field(default=3.0, gt=0)
    walk_kmh: float = Field(default=4.0, gt=0)
    drive_kmh: float = Field(default=20.0, gt=0)
    detour: float = Field(default=1.3, ge=1)


class OutreachConfig(_Section):
    """The monthly village outreach (``[outreach]``): calendar rules, day
    shape, teams, services and the need-score weights.

    ``office`` (WGS-84) overrides the federation office recorded in the store
    by ``coverplan init --office``; with neither, the teams start and end at
    the service point whatever ``start_at`` says."""

    villages_per_month: int = Field(default=2, ge=1, le=2)
    min_villages_per_month: int = Field(default=1, ge=0, le=2)
    no_repeat_months: int = Field(default=12, ge=1)
    every_town: bool = False  # older files: true is town_min_months = 1
    pair_same_town: bool = True
    # calendar (i12cal): months per town in proportion to need, with a minimum;
    # a second village only within this drive of the month's service point
    town_min_months: int = Field(default=0, ge=0, le=12)
    pair_max_drive_min: float = Field(default=30.0, ge=0)
    days: int = Field(default=1, ge=1, le=3)
    weekday: int = Field(default=1, ge=0, le=4)  # 0 = Monday
    day_households: int = Field(default=24, ge=1)
    office: OutreachPlace | None = None  # None: the store's office (coverplan init --office)
    start_at: Literal["office", "service_point"] = "office"
    shift_start: str = "08:30"
    shift_end: str = "17:00"
    lunch_start: str = "11:30"
    lunch_end: str = "13:00"
    solver_seconds: float = Field(default=10.0, gt=0)
    seed: int = 1
    home_if: list[str] = ["bedridden", "wheelchair"]
    # a household whose services need skills no single team has: "when_needed" splits
    # it into one visit per team (a team with all the skills takes it whole), "never"
    # leaves it unplanned (reason_code no_team_skill)
    split_skills: Literal["when_needed", "never"] = "when_needed"
    skill_labels: dict[str, str] = {}  # skill key → its name in reasons (e.g. 精神科)
    weights: dict[str, float] = {}
    services: dict[str, OutreachService] = {}
    teams: dict[str, OutreachTeam] = {}
    hops: OutreachHops = OutreachHops()  # moves between homes (planner.outreach.hops)


class FacilityTypeConfig(_Section):
    """A facility type. ``catchment``: ``travel`` (within ``threshold_min`` by
    ``mode``) or ``village`` (serves the residents of its own village, e.g. an
    accessible community). ``capacity_binding``: capacity is a number of places
    that limits who can be served (homes, stations, care beds); false when it is
    a throughput (visitors a day, fittings a month) that does not."""

    label: str
    aliases: list[str] = []
    capacity_meaning: str = ""
    threshold_min: float = Field(default=30.0, ge=0)
    mode: Mode = "drive"
    catchment: Literal["travel", "village"] = "travel"
    capacity_binding: bool = True
    eligibility: Eligibility = Eligibility()
    siting: SiteCosts = Field(default_factory=lambda: SiteCosts())


class GapsConfig(_Section):
    visit_overdue_days: int = Field(default=365, gt=0)
    weights: dict[str, float] = {
        "severe_without_care": 1.0,
        "poor_without_living": 1.0,
        "devices_overdue": 0.5,
        "visits_overdue": 0.2,
    }


class IndicatorConfig(_Section):
    """The 十四五 plan's indicator table (``[indicators]``): targets and counting rules.

    Targets are percent unless named ``*_count`` (facilities); the comparison
    (``>`` or ``≥``) is the plan's and lives with the definitions
    (:mod:`planner.domain.plan_table`). ``home_reading``: which reading of
    残疾人之家覆盖率 is held against ``home_reach_pct`` — ``town`` (乡镇(街道)全覆盖:
    towns with a home / all towns) or ``people`` (eligible persons within reach
    and within capacity). Ages are whole years, both ends included.
    """

    living_subsidy_pct: float = Field(default=99.0, ge=0, le=100)
    care_subsidy_pct: float = Field(default=99.0, ge=0, le=100)
    home_reach_pct: float = Field(default=90.0, ge=0, le=100)
    home_reading: Literal["town", "people"] = "town"
    care_institution_count: int = Field(default=1, ge=0)
    care_institution_types: list[str] = ["care_center"]
    child_rehab_count: int = Field(default=1, ge=0)
    child_rehab_types: list[str] = ["child_rehab"]
    pension_pct: float = Field(default=99.0, ge=0, le=100)
    pension_min_age: int = Field(default=16, ge=0)
    medical_pct: float = Field(default=99.0, ge=0, le=100)
    employment_pct: float = Field(default=60.0, ge=0, le=100)
    employment_ages: tuple[int, int] = (16, 59)
    high_school_pct: float = Field(default=85.0, ge=0, le=100)
    high_school_ages: tuple[int, int] = (15, 17)
    rehab_reach_pct: float = Field(default=99.0, ge=0, le=100)
    device_current_pct: float = Field(default=99.0, ge=0, le=100)
    retrofit_pct: float = Field(default=95.0, ge=0, le=100)
    retrofit_categories: list[str] = []
    # 符合条件残疾人家庭无障碍改造率: a family counts when a member is of these
    # grades (empty: any) and 低保/低边 kinds (empty: any); its retrofit counts when
    # less than ``retrofit_within_years`` old (None: ``[retrofit] repeat_after_years``).
    retrofit_grades: list[Literal[1, 2, 3, 4]] = [1, 2]
    retrofit_low_income: list[Literal["dibao", "dibian"]] = ["dibao", "dibian"]
    retrofit_within_years: int | None = Field(default=None, ge=1)
    culture_sports_pct: float = Field(default=95.0, ge=0, le=100)
    home_town_pct: float = Field(default=100.0, ge=0, le=100)
    accessible_community_count: int = Field(default=5, ge=0)
    accessible_community_types: list[str] = ["accessible_community"]
    family_doctor_pct: float = Field(default=80.0, ge=0, le=100)
    rehab_types: list[str] = ["psych_station", "child_rehab", "device_point", "rehab_hospital"]

    @field_validator("employment_ages", "high_school_ages")
    @classmethod
    def _ages_ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] <= v[1]:
            raise ValueError("年龄范围应为 [起始年龄, 截止年龄]，且 0 ≤ 起始 ≤ 截止")
        return v


class AgeBand(_Section):
    """Points for residents aged ``min_age`` years or more (the highest band reached counts)."""

    min_age: int = Field(ge=0)
    points: float = Field(ge=0)


class RetrofitWeights(_Section):
    """Points per part of the household retrofit priority score (all ≥ 0).

    ``grade``: points per disability grade (1–4; a grade not listed scores 0).
    ``category``: points per category key; other categories get ``category_default``.
    ``low_income``: points for ``dibao`` (低保) and ``dibian`` (低边) households.
    ``age``: bands in years, ascending ``min_age``. Flags score when true.
    """

    grade: dict[int, float] = {1: 3.0, 2: 2.0, 3: 1.0, 4: 0.5}
    category: dict[str, float] = {"physical": 2.0, "vision": 2.0, "multiple": 1.5}
    category_default: float = Field(default=0.5, ge=0)
    wheelchair: float = Field(default=2.0, ge=0)
    low_income: dict[str, float] = {"dibao": 2.0, "dibian": 1.0}
    age: list[AgeBand] = [AgeBand(min_age=60, points=1.0), AgeBand(min_age=80, points=1.5)]
    lives_alone: float = Field(default=1.5, ge=0)
    elderly_carer: float = Field(default=1.0, ge=0)

    @field_validator("grade")
    @classmethod
    def _grade_keys(cls, v: dict[int, float]) -> dict[int, float]:
        if any(g not in (1, 2, 3, 4) for g in v):
            raise ValueError("等级只能是 1、2、3、4")
        if any(p < 0 for p in v.values()):
            raise ValueError("分值应 ≥ 0")
        return v

    @field_validator("category")
    @classmethod
    def _category_points(cls, v: dict[str, float]) -> dict[str, float]:
        if any(p < 0 for p in v.values()):
            raise ValueError("分值应 ≥ 0")
        return v

    @field_validator("low_income")
    @classmethod
    def _low_income_keys(cls, v: dict[str, float]) -> dict[str, float]:
        if any(k not in ("dibao", "dibian") for k in v):
            raise ValueError("键只能是 dibao（低保）、dibian（低边）")
        if any(p < 0 for p in v.values()):
            raise ValueError("分值应 ≥ 0")
        return v

    @field_validator("age")
    @classmethod
    def _age_ascending(cls, v: list[AgeBand]) -> list[AgeBand]:
        ages = [b.min_age for b in v]
        if ages != sorted(set(ages)):
            raise ValueError("各档 min_age 应严格递增")
        return v


class RetrofitConfig(_Section):
    """Household accessibility retrofits (无障碍改造进家庭) and accessible communities.

    ``quota``: households a year; ``cost_per_household`` in yuan;
    ``repeat_after_years``: a household retrofitted at least this many years
    before the plan year may be retrofitted again; ``communities_top``: villages
    listed as accessible-community candidates.
    """

    quota: int = Field(default=122, ge=0)
    cost_per_household: float = Field(default=8000.0, ge=0.01)  # at least one fen
    repeat_after_years: int = Field(default=10, ge=1)
    communities_top: int = Field(default=10, ge=1)
    weights: RetrofitWeights = RetrofitWeights()


class NetworkModeConfig(_Section):
    """One travel mode's use of OSM ways (see :class:`geo.graph.ModeProfile`)."""

    respect_oneway: bool = True
    respect_maxspeed: bool = True
    maxspeed_factor: float = Field(default=1.0, gt=0, le=1)
    exclude: dict[str, list[str]] = {}
    speeds_kmh: dict[str, float]

    @field_validator("speeds_kmh")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(s <= 0 for s in v.values()):
            raise ValueError("速度应为正数（千米/小时），且至少一项")
        return v


class NetworkConfig(_Section):
    """Road networks (``[network]``).

    ``snap_max_m``: a point (household, village, facility, candidate site,
    office, service point) farther than this many metres (great-circle, to the
    network node it snaps to) is off the network: reported and counted as not
    reachable. ``access_speed_kmh``: walking speed from a point to its node
    (reported, not added). ``min_village_share``: ``coverplan network build``
    refuses a file when fewer than this share (0–1) of the villages with a
    point lie within ``snap_max_m`` of its network (the wrong district, or a
    clipped extract).
    """

    snap_max_m: float = Field(default=500.0, gt=0)
    access_speed_kmh: float = Field(default=4.0, gt=0)
    min_village_share: float = Field(default=0.8, ge=0, le=1)
    drive: NetworkModeConfig
    walk: NetworkModeConfig
    wheelchair: NetworkModeConfig

    def profile(self, mode: str) -> ModeProfile:
        """The :class:`geo.graph.ModeProfile` of ``mode``."""
        if mode not in ("drive", "walk", "wheelchair"):
            raise ConfigError(f"不认识的出行方式「{mode}」；可用：drive、walk、wheelchair")
        cfg: NetworkModeConfig = getattr(self, mode)
        return ModeProfile(
            mode=mode,
            speeds_kmh=dict(cfg.speeds_kmh),
            respect_oneway=cfg.respect_oneway,
            respect_maxspeed=cfg.respect_maxspeed,
            maxspeed_factor=cfg.maxspeed_factor,
            exclude={k: tuple(v) for k, v in cfg.exclude.items()},
        )


class Config(_Section):
    """The user-editable configuration (see ``data/config/default.toml``)."""

    import_: ImportConfig = Field(default_factory=ImportConfig, alias="import")
    geocode: GeocodeConfig = GeocodeConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    categories: dict[str, CategoryConfig]
    facility_types: dict[str, FacilityTypeConfig]
    network: NetworkConfig
    gaps: GapsConfig = GapsConfig()
    indicators: IndicatorConfig = IndicatorConfig()
    retrofit: RetrofitConfig = RetrofitConfig()
    siting: SitingConfig = SitingConfig()
    outreach: OutreachConfig = OutreachConfig()
    server: ServerConfig = ServerConfig()
    auth: AuthConfig = AuthConfig()
    maps: MapsConfig = MapsConfig()

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def category_label(self, key: str) -> str:
        """Chinese label of a category key (the key itself when unknown)."""
        cat = self.categories.get(key)
        return cat.label if cat else key

    def facility_label(self, key: str) -> str:
        """Chinese label of a facility type key (the key itself when unknown)."""
        ft = self.facility_types.get(key)
        return ft.label if ft else key


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def default_config_text() -> str:
    """The packaged default TOML, as text."""
    return resources.files("data.config").joinpath("default.toml").read_text(encoding="utf-8")


def load_config(path: Path | None = None) -> Config:
    """Load the packaged defaults overlaid with the TOML at ``path``.

    Raises
    ------
    ConfigError
        When the file is missing, not TOML, has invalid values (each named by its
        key path, e.g. ``outreach.days``) or unknown keys (with the closest valid one).
    """
    raw = tomllib.loads(default_config_text())
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ConfigError(f"配置文件 {path} 不存在；请检查 COVERPLAN_CONFIG。") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码；请用 UTF-8 保存。") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {path} 不是有效的 TOML：{exc}") from exc
        raw = _deep_merge(raw, user)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(validation_messages(exc, root=Config))
        raise ConfigError(f"配置文件 {path or 'default.toml'} 有误：\n  {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings (cached).

    Raises
    ------
    ConfigError
        When a ``COVERPLAN_*`` environment variable has an invalid value.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n  ".join(
            validation_messages(
                exc, root=Settings, name=lambda loc: f"COVERPLAN_{key_path(loc).upper()}"
            )
        ).replace("配置项", "环境变量")
        raise ConfigError(f"环境变量有误：\n  {problems}") from None


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The configuration named by the settings (cached)."""
    return load_config(get_settings().config)


def reset_settings() -> None:
    """Forget cached settings and configuration (after changing the environment)."""
    get_settings.cache_clear()
    get_config.cache_clear()
