"""Store schema: SQLAlchemy 2 ORM tables (the migrations in ``planner/migrations``
create exactly these; a test compares them).

Coordinates are WGS-84 lon/lat in degrees; polygons are GeoJSON text, so the same
schema runs on SQLite and PostgreSQL without spatial extensions.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from planner.store.crypto import HASH_COLUMN_LENGTH, EncryptedIdNumber, id_hash_default
from planner.units import LeadStatus


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key/value facts about the store (e.g. ``district_source`` = demo)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Town(Base):
    __tablename__ = "towns"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class Village(Base):
    __tablename__ = "villages"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    town_code: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    polygon: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry, WGS-84
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Resident(Base):
    """A registered disabled person. Sensitive: ID, name, phone, category."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # migration 0006: encrypted at rest (planner/store/crypto.py); ``id_hash`` is the
    # keyed lookup hash imports match by (the ID number is never updated in place)
    id_number: Mapped[str] = mapped_column(EncryptedIdNumber(), unique=True)
    id_hash: Mapped[str] = mapped_column(
        String(HASH_COLUMN_LENGTH), unique=True, index=True, default=id_hash_default
    )
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(16), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"), index=True)
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    lon: Mapped[float | None] = mapped_column(Float)  # household GPS, WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    geocode_method: Mapped[str | None] = mapped_column(String(16))
    geocode_score: Mapped[float | None] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)
    living_subsidy: Mapped[bool | None] = mapped_column(Boolean)
    care_subsidy: Mapped[bool | None] = mapped_column(Boolean)
    low_income: Mapped[str | None] = mapped_column(String(8))  # dibao | dibian
    lives_alone: Mapped[bool | None] = mapped_column(Boolean)
    elderly_carer: Mapped[bool | None] = mapped_column(Boolean)
    bedridden: Mapped[bool | None] = mapped_column(Boolean)
    wheelchair: Mapped[bool | None] = mapped_column(Boolean)
    supervised_medication: Mapped[bool | None] = mapped_column(Boolean)
    stroke_aftercare: Mapped[bool | None] = mapped_column(Boolean)
    employment: Mapped[str | None] = mapped_column(String(16))
    retrofit_year: Mapped[int | None] = mapped_column(Integer)
    reassessment_due: Mapped[date | None] = mapped_column(Date)
    last_visit: Mapped[date | None] = mapped_column(Date)
    # migration 0003: the family (户号) and the data behind the plan's indicators
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    pension_insured: Mapped[bool | None] = mapped_column(Boolean)  # 城乡居民基本养老保险
    medical_insured: Mapped[bool | None] = mapped_column(Boolean)  # 城乡居民基本医疗保险
    family_doctor: Mapped[bool | None] = mapped_column(Boolean)  # 家庭医生签约
    rehab_needed: Mapped[bool | None] = mapped_column(Boolean)  # 有基本康复服务需求
    rehab_received: Mapped[bool | None] = mapped_column(Boolean)  # 本年获得基本康复服务
    device_needed: Mapped[bool | None] = mapped_column(Boolean)  # 有辅助器具适配需求
    culture_sports: Mapped[bool | None] = mapped_column(Boolean)  # 本年获得文体服务
    education_stage: Mapped[str | None] = mapped_column(String(16))  # 在读学段
    # migration 0004: the household's point as a team recorded it on a route sheet
    # (WGS-84); never written by a register import, preferred to ``lon``/``lat``
    recorded_lon: Mapped[float | None] = mapped_column(Float)
    recorded_lat: Mapped[float | None] = mapped_column(Float)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Device(Base):
    """An assistive device issued to a resident; due at issued_on + service_years."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("resident_id", "device_type", "issued_on"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    device_type: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[date] = mapped_column(Date)
    service_years: Mapped[float] = mapped_column(Float)
    replaced_on: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Facility(Base):
    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # 设施编号, or type:name
    type: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"), index=True)
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"))
    address: Mapped[str | None] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)
    placed: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Lead(Base):
    """A suspected unregistered disabled person (疑似未持证线索)."""

    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str | None] = mapped_column(String(2))
    id_number: Mapped[str | None] = mapped_column(EncryptedIdNumber())  # encrypted (0006)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"), index=True)
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    suspected_category: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    reported_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=LeadStatus.OPEN.value)
    notes: Mapped[str | None] = mapped_column(Text)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(Text)
    # migration 0004: the point a team recorded (WGS-84), as for residents
    recorded_lon: Mapped[float | None] = mapped_column(Float)
    recorded_lat: Mapped[float | None] = mapped_column(Float)
    recorded_on: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Visit(Base):
    """A home visit or outreach contact (filled in by later issues)."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"))
    visited_on: Mapped[date] = mapped_column(Date)
    team: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    # migration 0004: the corrected point of the household the visit carried (WGS-84)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(16))
    crs: Mapped[str] = mapped_column(String(8))
    rows: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    needs_review: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)


class ImportProblem(Base):
    """A rejected row, or a stored row flagged for review, of an import batch."""

    __tablename__ = "import_problems"
    __table_args__ = (Index("ix_import_problems_batch", "batch_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)  # ID and phone values masked
    action: Mapped[str] = mapped_column(String(8))  # rejected | review
    reason: Mapped[str] = mapped_column(Text)


class GeocodeCorrection(Base):
    """A manual geocoding decision: normalised address text → village code."""

    __tablename__ = "geocode_corrections"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Append-only log (triggers of migration 0005 refuse UPDATE and DELETE).

    Changes to the store carry ``actor``/``entity``/``detail``; person-level reads
    and exports (migration 0005) also carry ``subject`` (username or
    ``key:<prefix>``), ``role``, ``target`` (what was read), ``purpose`` (why,
    as the caller declared it) and ``count`` (persons returned).
    """

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # migration 0005: person-level access
    subject: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int | None] = mapped_column(Integer)


class User(Base):
    """An account of the HTTP API (migration 0005). ``towns``: a JSON list of town
    codes (outreach); ``locked_until``: naive UTC."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(32))
    towns: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser of the web UI (migration 0007): the SHA-256 of its cookie
    token, the account, its forms' CSRF token, opened and last used (naive UTC)."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class ApiKey(Base):
    """An API key of a system caller (migration 0005): its public ``prefix`` and the
    SHA-256 (hex) of the whole key; the key itself is never stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Scenario(Base):
    """A named planning scenario (siting, retrofit, …): its inputs and results.

    ``metrics`` is flat (metric key → number or text); ``by_town`` maps a town
    name to its metrics (metric key → number). ``result`` is the full JSON form
    of the planner's result.
    """

    __tablename__ = "scenarios"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # site | retrofit | …
    facility_type: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    inputs: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    by_town: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON, default=dict)
