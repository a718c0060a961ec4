"""Citizens' status page and e-mail notifications: the outbox, further access codes
per ticket, and the citizen's own replies as ticket events.

Revision ID: 0006_outbox
Revises: 0006_agent_routing
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_outbox"
down_revision: str | None = "0006_agent_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
HASH = sa.String(length=64)
# 0006_agent_routing added "assigned" before this revision (the chain is linear).
OLD_KINDS = "kind IN ('created', 'status', 'note', 'reply', 'assigned')"
NEW_KINDS = "kind IN ('created', 'status', 'note', 'reply', 'assigned', 'citizen_reply')"


def upgrade() -> None:
    op.create_table(
        "ticket_access_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_ticket_access_codes_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_access_codes")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ticket_access_codes_token_hash")),
    )
    op.create_index(op.f("ix_ticket_access_codes_ticket_id"), "ticket_access_codes",
                    ["ticket_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed', 'skipped')",
                           name=op.f("ck_outbox_state")),
        sa.CheckConstraint("kind IN ('reply', 'status')", name=op.f("ck_outbox_kind")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_outbox_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_ticket_id"), "outbox", ["ticket_id"])
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    # SQLite cannot alter a CHECK: batch mode copies the table.
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_constraint(op.f("ck_ticket_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_ticket_events_kind"), sa.text(NEW_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM ticket_events WHERE kind = 'citizen_reply'")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_constraint(op.f("ck_ticket_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_ticket_events_kind"), sa.text(OLD_KINDS))
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_index(op.f("ix_outbox_ticket_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_ticket_access_codes_ticket_id"), table_name="ticket_access_codes")
    op.drop_table("ticket_access_codes")
