"""web UI sessions

``web_sessions``: one row per signed-in browser. The cookie holds a random token;
the table holds only its SHA-256 (``id``), the account, the CSRF token of the
session's forms and when it was opened and last used (naive UTC), so a stolen
database file gives no usable cookie and an idle session expires.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_username", "web_sessions", ["username"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_username", table_name="web_sessions")
    op.drop_table("web_sessions")
