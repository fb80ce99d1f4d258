"""calls follow: the rows of calls still open when their file was rotated

Revision ID: 0008_calls_follow_carried
Revises: 0007_surgeries
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_calls_follow_carried"
down_revision = "0007_surgeries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls_follow", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("carried", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("calls_follow", schema=None) as batch_op:
        batch_op.drop_column("carried")
