"""How many reports that decide nothing an order's workflow has been given

Revision 0015, after 0014.

Each report signalled to an order's workflow adds events to its history, and a provider that
sends thousands (distinct ids, states that decide nothing) grew one until a replay took longer
than a workflow task may, then past Temporal's signal and history limits: the order stuck, or
ended without its final status. The inbox now counts them on the row, atomically, and keeps
those past its cap in the shipment's history only. Nullable without a default: adding it
rewrites nothing, and PostgreSQL's `shipment_inserted` builds the row from JSON, where an
absent key is NULL; NULL counts as none. An API of the previous release counts nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: on SQLite that copies the table, and dropping the old one takes its
    # events and feed entries with it (ON DELETE CASCADE). A nullable column needs no copy.
    op.add_column("shipment", sa.Column("reports_signalled", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("shipment", "reports_signalled")
