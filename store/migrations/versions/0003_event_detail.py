"""What a gateway said with its answer, kept in the shipment's history

Revision 0003, after 0002.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.drop_column("detail")
