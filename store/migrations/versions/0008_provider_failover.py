"""The provider a shipment's handover asks, and the circuits of the workers' providers

Revision 0008, after 0007.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shipment", sa.Column("provider", sa.String(length=32), nullable=True))
    op.create_table(
        "provider_circuit",
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", "channel", "provider", name="pk_provider_circuit"),
    )


def downgrade() -> None:
    op.drop_table("provider_circuit")
    # A plain ALTER TABLE (SQLite has it since 3.35): a batch would copy the shipment table and
    # drop the old one, and the drop would cascade to every row that refers to a shipment.
    op.execute("ALTER TABLE shipment DROP COLUMN provider")
