"""Reply metadata on conversation messages, for the editors' content-gap report.

Assistants' replies record their type (answer, clarify, escalate,
unsupported_language), the article they were about with its department, and the
confidence; citizens' messages record the detected language, also an unsupported
one. All columns are nullable: rows written before this revision stay as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLY_TYPES = ("answer", "clarify", "escalate", "unsupported_language")


def upgrade() -> None:
    # Batch mode: SQLite cannot add a CHECK constraint in place, so the table is
    # rebuilt there; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("conversation_messages") as batch:
        batch.add_column(sa.Column("detected_language", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("reply_type", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("article_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("department", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch.create_check_constraint(
            "reply_type", f"reply_type IN ({', '.join(repr(t) for t in REPLY_TYPES)})")


def downgrade() -> None:
    with op.batch_alter_table("conversation_messages") as batch:
        batch.drop_constraint("reply_type", type_="check")
        batch.drop_column("confidence")
        batch.drop_column("department")
        batch.drop_column("article_id")
        batch.drop_column("reply_type")
        batch.drop_column("detected_language")
