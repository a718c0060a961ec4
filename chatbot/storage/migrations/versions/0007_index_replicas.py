"""Index versions for replicas on several machines: each published version with its
manifest and the SHA-256 of its archive, the archive in parts, the one current
version (a single row with a generation counter), and the replicas reporting in.

Revision ID: 0007_index_replicas
Revises: 0006_ics_tokens
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_index_replicas"
down_revision: str | None = "0006_ics_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "index_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_index_versions")),
    )
    op.create_index(op.f("ix_index_versions_created_at"), "index_versions", ["created_at"])
    op.create_table(
        "index_version_blobs",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["index_versions.version"], ondelete="CASCADE",
                                name=op.f("fk_index_version_blobs_version_index_versions")),
        sa.PrimaryKeyConstraint("version", "seq", name=op.f("pk_index_version_blobs")),
    )
    op.create_table(
        "index_current",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("set_at", TIMESTAMP, nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_index_current_single_row")),
        sa.ForeignKeyConstraint(["version"], ["index_versions.version"], ondelete="RESTRICT",
                                name=op.f("fk_index_current_version_index_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_current")),
    )
    op.create_table(
        "index_replicas",
        sa.Column("replica_id", sa.String(length=200), nullable=False),
        sa.Column("index_dir", sa.Text(), nullable=False),
        sa.Column("serving_version", sa.String(length=64), nullable=True),
        sa.Column("model_id", sa.String(length=200), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("replica_id", name=op.f("pk_index_replicas")),
    )
    op.create_index(op.f("ix_index_replicas_last_seen"), "index_replicas", ["last_seen"])


def downgrade() -> None:
    op.drop_index(op.f("ix_index_replicas_last_seen"), table_name="index_replicas")
    op.drop_table("index_replicas")
    op.drop_table("index_current")
    op.drop_table("index_version_blobs")
    op.drop_index(op.f("ix_index_versions_created_at"), table_name="index_versions")
    op.drop_table("index_versions")
