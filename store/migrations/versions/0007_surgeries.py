"""surgeries and casework meetings: sessions and bookings

Revision ID: 0007_surgeries
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision = "0007_surgeries"
down_revision = "0006_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surgery_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("venue", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("virtual_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("moved_to_id", sa.Integer(), nullable=True),
        sa.Column("brief_sent_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["moved_to_id"], ["surgery_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("surgery_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surgery_sessions_held_on"), ["held_on"], unique=False)

    op.create_table(
        "surgery_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("needs", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("offer_expires_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("moved_from_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["moved_from_id"], ["surgery_sessions.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["surgery_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("surgery_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surgery_bookings_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_surgery_bookings_session_status", ["session_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("surgery_bookings")
    op.drop_table("surgery_sessions")
