"""points recorded by the outreach teams

A route sheet that comes back can carry a corrected point of the household
(``coverplan visits import``): the visit keeps it (``visits.lon``/``lat``), and
the household's residents (or the lead) keep the latest one in
``recorded_lon``/``recorded_lat``/``recorded_on``, columns a register import
never writes, so a later register without points cannot erase it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("residents", "leads"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("recorded_lon", sa.Float(), nullable=True))
            batch.add_column(sa.Column("recorded_lat", sa.Float(), nullable=True))
            batch.add_column(sa.Column("recorded_on", sa.Date(), nullable=True))
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("lat")
        batch.drop_column("lon")
    for table in ("leads", "residents"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("recorded_on")
            batch.drop_column("recorded_lat")
            batch.drop_column("recorded_lon")
