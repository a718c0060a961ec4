"""Routing tickets to the agents who can handle them.

Agents record the departments and languages they serve (NULL: all of them); a ticket
records the agent it is assigned to (NULL: nobody yet), and its history records every
assignment as an event of the new kind "assigned".

Revision ID: 0006_agent_routing
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0006_agent_routing"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_EVENT_KINDS = ("created", "status", "note", "reply")
NEW_EVENT_KINDS = (*OLD_EVENT_KINDS, "assigned")


def _kinds(kinds: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(k) for k in kinds)})"


@contextmanager
def _tickets_rebuilt() -> Iterator[None]:
    """Batch mode rebuilds `tickets` on SQLite (it cannot add or drop a foreign key in
    place): it drops the old table, and with foreign keys on, that deletes every
    ticket's history (ON DELETE CASCADE). The events are kept aside meanwhile."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE events_0006 AS SELECT * FROM ticket_events")
    yield
    if sqlite:
        op.execute("INSERT INTO ticket_events SELECT * FROM events_0006 "
                   "WHERE id NOT IN (SELECT id FROM ticket_events)")
        op.execute("DROP TABLE events_0006")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("departments", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))
    with _tickets_rebuilt(), op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_tickets_assignee_user_id_users"), "users",
                                 ["assignee_user_id"], ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_tickets_assignee_user_id"), ["assignee_user_id"])
    # SQLite cannot change a CHECK constraint in place either (nothing refers to this
    # table, so its rebuild loses nothing).
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_constraint(op.f("ck_ticket_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_ticket_events_kind"), _kinds(NEW_EVENT_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM ticket_events WHERE kind = 'assigned'")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_constraint(op.f("ck_ticket_events_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_ticket_events_kind"), _kinds(OLD_EVENT_KINDS))
    with _tickets_rebuilt(), op.batch_alter_table("tickets") as batch:
        batch.drop_index(op.f("ix_tickets_assignee_user_id"))
        batch.drop_constraint(op.f("fk_tickets_assignee_user_id_users"), type_="foreignkey")
        batch.drop_column("assigned_at")
        batch.drop_column("assignee_user_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("languages")
        batch.drop_column("departments")
