"""Chat feedback: citizens rate chat replies for editors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE",
            name=op.f("fk_chat_feedback_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_feedback")),
    )
    op.create_index(op.f("ix_chat_feedback_conversation_id"), "chat_feedback",
                    ["conversation_id"])
    op.create_index(op.f("ix_chat_feedback_created_at"), "chat_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_feedback_created_at"), table_name="chat_feedback")
    op.drop_index(op.f("ix_chat_feedback_conversation_id"), table_name="chat_feedback")
    op.drop_table("chat_feedback")
