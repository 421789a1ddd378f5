"""Held reports and rate-limit indexes

Revision 0002, after 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("report", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipment_id", sa.String(length=36), nullable=True),
        sa.Column("claimed_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_report")),
    )
    with op.batch_alter_table("held_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_held_report_gateway_reference"), ["gateway_reference"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_held_report_shipment_id"), ["shipment_id"], unique=False
        )

    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_org_created", ["org", "created_at"], unique=False)
        batch_op.create_index(
            "ix_shipment_org_destination_created",
            ["org", "destination", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_org_destination_created")
        batch_op.drop_index("ix_shipment_org_created")

    with op.batch_alter_table("held_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_report_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_held_report_gateway_reference"))

    op.drop_table("held_report")
