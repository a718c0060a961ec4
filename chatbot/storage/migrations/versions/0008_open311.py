"""Defect reports for the utilities' Open311 endpoint: the report and its forwarding
state in one row (the e-mail outbox's claim/lease/backoff columns).

Revision ID: 0008_open311
Revises: 0007_index_replicas
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0008_open311"
down_revision: str | None = "0007_index_replicas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "defect_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("access_token_hash", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key_hash", sa.String(length=64), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("token_salt", sa.String(length=64), nullable=True),
        sa.Column("service_code", sa.String(length=100), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address_string", sa.String(length=300), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("consent_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("forwarded_at", TIMESTAMP, nullable=True),
        sa.Column("service_request_id", sa.String(length=100), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("remote_status", sa.String(length=32), nullable=True),
        sa.Column("remote_status_notes", sa.Text(), nullable=True),
        sa.Column("remote_checked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('pending', 'forwarded', 'failed', 'ticket')",
                           name=op.f("ck_defect_reports_state")),
        sa.CheckConstraint("address_string IS NOT NULL OR (lat IS NOT NULL AND "
                           "lon IS NOT NULL)", name=op.f("ck_defect_reports_location")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name=op.f("fk_defect_reports_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_defect_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_defect_reports_reference")),
        sa.UniqueConstraint("access_token_hash",
                            name=op.f("uq_defect_reports_access_token_hash")),
        sa.UniqueConstraint("idempotency_key_hash",
                            name=op.f("uq_defect_reports_idempotency_key_hash")),
    )
    op.create_index("ix_defect_reports_state_next_attempt_at", "defect_reports",
                    ["state", "next_attempt_at"])
    op.create_index(op.f("ix_defect_reports_service_request_id"), "defect_reports",
                    ["service_request_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_defect_reports_service_request_id"), table_name="defect_reports")
    op.drop_index("ix_defect_reports_state_next_attempt_at", table_name="defect_reports")
    op.drop_table("defect_reports")
