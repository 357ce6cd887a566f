"""register columns for the plan's indicators and families

Household (户号) for the per-family retrofit rate; insurance, family-doctor
signing, rehab need and services received, device need, culture and sports
services, education stage for the 十四五 indicator table. All optional: a
register that does not carry them leaves them NULL ("无数据").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BOOLS = (
    "pension_insured",
    "medical_insured",
    "family_doctor",
    "rehab_needed",
    "rehab_received",
    "device_needed",
    "culture_sports",
)


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("household_id", sa.String(length=64), nullable=True))
        for name in _BOOLS:
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("education_stage", sa.String(length=16), nullable=True))
        batch.create_index("ix_residents_household_id", ["household_id"])


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.drop_index("ix_residents_household_id")
        batch.drop_column("education_stage")
        for name in reversed(_BOOLS):
            batch.drop_column(name)
        batch.drop_column("household_id")
