"""A read-only token for an appointment's .ics link, apart from the cancel token.

The link used to carry the cancel token, so anyone who saw it (a proxy's log, a shared
calendar) could cancel. Only the new token's SHA-256 is stored. NULL on rows booked
before this revision: their .ics is downloadable with the cancel token in the
X-Access-Token header.

Revision ID: 0006_ics_tokens
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_ics_tokens"
down_revision: str | None = "0006_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("ics_token_hash", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_appointments_ics_token_hash"),
                                      ["ics_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_constraint(op.f("uq_appointments_ics_token_hash"), type_="unique")
        batch.drop_column("ics_token_hash")
