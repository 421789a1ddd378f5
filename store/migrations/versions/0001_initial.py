"""Shipments, their history, the feed and report bookkeeping

Revision 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_report")),
    )
    op.create_table(
        "shipment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("idempotency_id", sa.String(length=255), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("senders_reference", sa.String(length=1024), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("order_status", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint("org", "idempotency_id", name="uq_shipment_org_key"),
        sa.UniqueConstraint("reference", name=op.f("uq_shipment_reference")),
    )
    op.create_index(op.f("ix_shipment_gateway_reference"), "shipment", ["gateway_reference"])
    op.create_table(
        "webhook_receipt",
        sa.Column("webhook_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_webhook_receipt")),
    )
    op.create_index(op.f("ix_webhook_receipt_received_at"), "webhook_receipt", ["received_at"])
    op.create_table(
        "feed_entry",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.String(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("senders_reference", sa.String(length=1024), nullable=True),
        sa.Column("order_status", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_feed_entry_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_feed_entry")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_feed_entry_shipment_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_feed_entry_org"), "feed_entry", ["org"])
    op.create_table(
        "shipment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_status", sa.String(length=64), nullable=True),
        sa.Column("report_id", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_shipment_event_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_event")),
        sa.UniqueConstraint("shipment_id", "number", name="uq_event_number"),
    )
    op.create_index(op.f("ix_shipment_event_shipment_id"), "shipment_event", ["shipment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_shipment_event_shipment_id"), table_name="shipment_event")
    op.drop_table("shipment_event")
    op.drop_index(op.f("ix_feed_entry_org"), table_name="feed_entry")
    op.drop_table("feed_entry")
    op.drop_index(op.f("ix_webhook_receipt_received_at"), table_name="webhook_receipt")
    op.drop_table("webhook_receipt")
    op.drop_index(op.f("ix_shipment_gateway_reference"), table_name="shipment")
    op.drop_table("shipment")
    op.drop_table("dead_report")
