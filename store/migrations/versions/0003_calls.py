"""calls from the phone system: the record format of each call, and calls follow positions

Revision ID: 0003_calls
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types

revision = "0003_calls"
down_revision = "0002_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.create_table(
        "calls_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("header", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )


def downgrade() -> None:
    op.drop_table("calls_follow")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("source")
