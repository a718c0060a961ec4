"""Initial schema: users, conversations, tickets and their history, appointments.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migrations describe the schema as it was at this revision, so they use plain column
# types instead of importing the (changing) models.
TIMESTAMP = sa.DateTime(timezone=True)
HASH = sa.String(length=64)
LIVE_BOOKING = sa.text("cancelled_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "reference_counters",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("role IN ('agent', 'editor')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_users_token_hash")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_activity_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_last_activity_at"), "conversations",
                    ["last_activity_at"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("role IN ('citizen', 'assistant')",
                           name=op.f("ck_conversation_messages_role")),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE",
            name=op.f("fk_conversation_messages_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
    )
    op.create_index(op.f("ix_conversation_messages_conversation_id"), "conversation_messages",
                    ["conversation_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("access_token_hash", HASH, nullable=False),
        sa.Column("token_salt", HASH, nullable=False),
        sa.Column("idempotency_key_hash", HASH, nullable=True),
        sa.Column("request_fingerprint", HASH, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("detected_language", sa.String(length=8), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("consent_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'waiting_for_citizen', 'resolved', 'closed')",
            name=op.f("ck_tickets_status")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="SET NULL",
                                name=op.f("fk_tickets_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("idempotency_key_hash", name=op.f("uq_tickets_idempotency_key_hash")),
        sa.UniqueConstraint("reference", name=op.f("uq_tickets_reference")),
    )
    op.create_index(op.f("ix_tickets_closed_at"), "tickets", ["closed_at"])
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"])
    op.create_index(op.f("ix_tickets_department"), "tickets", ["department"])
    op.create_index(op.f("ix_tickets_preferred_language"), "tickets", ["preferred_language"])
    op.create_index("ix_tickets_status_created_at", "tickets", ["status", "created_at"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('created', 'status', 'note', 'reply')",
                           name=op.f("ck_ticket_events_kind")),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_ticket_events_actor_user_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_ticket_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("cancel_token_hash", HASH, nullable=False),
        sa.Column("token_salt", HASH, nullable=False),
        sa.Column("idempotency_key_hash", HASH, nullable=True),
        sa.Column("request_fingerprint", HASH, nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("slot_start", TIMESTAMP, nullable=False),
        sa.Column("slot_end", TIMESTAMP, nullable=False),
        sa.Column("counter_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("consent_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("cancelled_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("counter_number >= 1", name=op.f("ck_appointments_counter_number")),
        sa.CheckConstraint("slot_end > slot_start", name=op.f("ck_appointments_slot_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("idempotency_key_hash",
                            name=op.f("uq_appointments_idempotency_key_hash")),
        sa.UniqueConstraint("reference", name=op.f("uq_appointments_reference")),
    )
    op.create_index(op.f("ix_appointments_slot_start"), "appointments", ["slot_start"])
    op.create_index("uq_appointments_slot_counter", "appointments",
                    ["service", "slot_start", "counter_number"], unique=True,
                    sqlite_where=LIVE_BOOKING, postgresql_where=LIVE_BOOKING)


def downgrade() -> None:
    op.drop_table("appointments")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
    op.drop_table("conversation_messages")
    op.drop_table("conversations")
    op.drop_table("users")
    op.drop_table("reference_counters")
