"""statutory clocks: clock events, the stopped day and review link on cases, store state

Revision ID: 0005_clocks
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision = "0005_clocks"
down_revision = "0003_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clock_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clock_events", schema=None) as batch_op:
        batch_op.create_index("ix_clock_events_case_on", ["case_id", "on"], unique=False)
    op.create_table(
        "store_state",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_stopped_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("review_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_clock_stopped_on"), ["clock_stopped_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_review_of_id"), ["review_of_id"], unique=False)
        batch_op.create_foreign_key("fk_cases_review_of_id_cases", "cases", ["review_of_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cases_review_of_id_cases", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cases_review_of_id"))
        batch_op.drop_index(batch_op.f("ix_cases_clock_stopped_on"))
        batch_op.drop_column("review_of_id")
        batch_op.drop_column("clock_stopped_on")
    op.drop_table("store_state")
    with op.batch_alter_table("clock_events", schema=None) as batch_op:
        batch_op.drop_index("ix_clock_events_case_on")
    op.drop_table("clock_events")
