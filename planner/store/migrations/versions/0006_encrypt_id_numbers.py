"""ID numbers encrypted at rest, with a keyed hash for lookup

``residents.id_number`` and ``leads.id_number`` hold the AES-SIV ciphertext of the
ID (``planner/store/crypto.py``; the columns widen from 18 to 64 characters);
``residents.id_hash`` (new, unique) holds its HMAC, which imports match by. A lead
whose natural key was its ID number gets ``id:`` + that hash as key instead.
Every existing row is encrypted in place, in batches; the store then rewrites a
SQLite file (VACUUM) so no free page keeps a plaintext ID. Downgrade decrypts.

The key: ``COVERPLAN_DATA_KEY``, else the SQLite store's ``<db file>.key``.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from planner.errors import StoreError
from planner.store import crypto

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH_ROWS = 500
_PLAIN_WIDTH = 18


def _keys(bind: Connection) -> crypto.DataKeys:
    try:
        ring = crypto.ring_of(bind.dialect)
    except StoreError:  # the alembic command line: the same rules from the URL
        url = bind.engine.url
        path = url.database if url.get_backend_name() == "sqlite" else None
        ring = crypto.KeyRing(
            sqlite_path=None if path in (None, "", ":memory:") else Path(str(path)),
            is_sqlite=url.get_backend_name() == "sqlite",
            display_url=url.render_as_string(hide_password=True),
        )
        crypto.attach(bind.dialect, ring)
    return ring.keys()


def _batches(bind: Connection, table: str, columns: str) -> Iterator[list[Any]]:
    """Rows of ``table`` by ascending id, ``_BATCH_ROWS`` at a time."""
    last = -1
    while True:
        rows = bind.execute(
            sa.text(f"SELECT id, {columns} FROM {table} WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH_ROWS},
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _sqlite_column_sql(bind: Connection, table: str, old: str, new: str) -> None:
    """SQLite: rewrite a column's declaration in the table's stored ``CREATE TABLE``.

    Only changes that leave the stored rows' format alone (a VARCHAR length, which
    SQLite does not enforce; NOT NULL on a column every row fills), the way the
    SQLite documentation describes (``writable_schema``, ``schema_version`` + 1).
    Batch mode would copy, drop and rename the table instead, which the foreign
    keys of devices and visits forbid inside the migration's transaction.
    """
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    if old not in sql:
        raise StoreError(f"数据表 {table} 的结构与预期不符（缺少 {old}），无法升级到 0006")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (sql.replace(old, new, 1), table),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _widen(bind: Connection, table: str, *, nullable: bool, wide: bool) -> None:
    """``table.id_number`` to the ciphertext width (``wide``) or back to 18 characters."""
    old, new = _PLAIN_WIDTH, crypto.CIPHER_COLUMN_LENGTH
    if not wide:
        old, new = new, old
    if bind.dialect.name == "sqlite":
        _sqlite_column_sql(bind, table, f"id_number VARCHAR({old})", f"id_number VARCHAR({new})")
        return
    op.alter_column(
        table,
        "id_number",
        existing_type=sa.String(old),
        type_=sa.String(new),
        existing_nullable=nullable,
    )


def upgrade() -> None:
    bind = op.get_bind()
    keys = _keys(bind)
    op.add_column(
        "residents", sa.Column("id_hash", sa.String(crypto.HASH_COLUMN_LENGTH), nullable=True)
    )
    _widen(bind, "residents", nullable=False, wide=True)
    _widen(bind, "leads", nullable=True, wide=True)
    encrypted = 0
    for rows in _batches(bind, "residents", "id_number"):
        todo = [
            {"id": rid, "c": keys.encrypt(num), "h": keys.id_hash(num)}
            for rid, num in rows
            if not str(num).startswith(crypto.CIPHER_PREFIX)
        ]
        if todo:
            bind.execute(
                sa.text("UPDATE residents SET id_number = :c, id_hash = :h WHERE id = :id"), todo
            )
            encrypted += len(todo)
    for rows in _batches(bind, "leads", "id_number, key"):
        todo = [
            {
                "id": lid,
                "c": keys.encrypt(num),
                "k": keys.lead_key(num) if key == num else key,
            }
            for lid, num, key in rows
            if num is not None and not str(num).startswith(crypto.CIPHER_PREFIX)
        ]
        if todo:
            bind.execute(sa.text("UPDATE leads SET id_number = :c, key = :k WHERE id = :id"), todo)
            encrypted += len(todo)
    hash_sql = f"id_hash VARCHAR({crypto.HASH_COLUMN_LENGTH})"
    if bind.dialect.name == "sqlite":
        _sqlite_column_sql(bind, "residents", hash_sql, f"{hash_sql} NOT NULL")
    else:
        op.alter_column(
            "residents",
            "id_hash",
            existing_type=sa.String(crypto.HASH_COLUMN_LENGTH),
            nullable=False,
        )
    op.create_index("ix_residents_id_hash", "residents", ["id_hash"], unique=True)
    if encrypted:
        bind.info[crypto.SCRUB_FLAG] = True


def downgrade() -> None:
    bind = op.get_bind()
    keys = _keys(bind)
    for rows in _batches(bind, "residents", "id_number"):
        bind.execute(
            sa.text("UPDATE residents SET id_number = :p WHERE id = :id"),
            [{"id": rid, "p": keys.decrypt(num)} for rid, num in rows],
        )
    for rows in _batches(bind, "leads", "id_number, key"):
        todo = []
        for lid, num, key in rows:
            if num is None:
                continue
            plain = keys.decrypt(num)
            todo.append({"id": lid, "p": plain, "k": plain if key == keys.lead_key(plain) else key})
        if todo:
            bind.execute(sa.text("UPDATE leads SET id_number = :p, key = :k WHERE id = :id"), todo)
    op.drop_index("ix_residents_id_hash", table_name="residents")
    op.drop_column("residents", "id_hash")  # SQLite >= 3.35: ALTER TABLE DROP COLUMN
    _widen(bind, "residents", nullable=False, wide=False)
    _widen(bind, "leads", nullable=True, wide=False)
