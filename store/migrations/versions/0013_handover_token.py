"""The handover execution that holds an order's row

Revision 0013, after 0012.

A worker frozen in a handover (a long pause, a VM stopped) while another resumed the order
could wake and fail over to a second provider, sending the message twice. Each execution that
resumes a handover now writes its token on the row, and naming a provider requires the token
of the execution doing it. Nullable, so adding it rewrites nothing; rows written before, and by
workers of the previous release, hold none, which is the token of the execution that wrote them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: on SQLite that copies the table, and dropping the old one takes its
    # events and feed entries with it (ON DELETE CASCADE). A nullable column needs no copy.
    op.add_column("shipment", sa.Column("handover_token", sa.String(length=36), nullable=True))


def downgrade() -> None:
    # Not in batch mode either (SQLite 3.35 drops a column in place): see `upgrade`.
    op.drop_column("shipment", "handover_token")
