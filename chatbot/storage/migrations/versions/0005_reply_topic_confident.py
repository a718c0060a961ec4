"""Whether a reply's article was a confident topic, so the next turn may inherit it.

An answer's article is; an escalation's "this article may help" is not; a booking or
a request for a person keeps a topic only when the chat was sure of it. NULL on rows
written before this revision (read as: not confident).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversation_messages",
                  sa.Column("topic_confident", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_column("topic_confident")
