"""Indexes for retention, which reads rows by their age

Revision 0005, after 0004.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dead_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dead_report_received_at"), ["received_at"], unique=False
        )

    with op.batch_alter_table("held_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_held_report_received_at"), ["received_at"], unique=False
        )

    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_created")

    with op.batch_alter_table("held_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_report_received_at"))

    with op.batch_alter_table("dead_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_report_received_at"))
