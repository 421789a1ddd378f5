"""A webhook id remembered while its delivery is processed, and done once it was

Revision 0012, after 0011.

A receipt taken before its reports were delivered, then left by an API stopped on the way, made
the provider's retry a replay, and its reports were lost. `done` tells a processed delivery
from one under way or cut off. Rows from before, and from an API of the previous release
during a rolling upgrade, count as done: that is what they meant to it. A constant default
adds the column without rewriting the table on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_receipt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("done", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_receipt", schema=None) as batch_op:
        batch_op.drop_column("done")
