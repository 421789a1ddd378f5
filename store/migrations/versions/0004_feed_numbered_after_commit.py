"""Feed entries numbered after commit; one tenant's pages by (org, seq)

Revision 0004, after 0003.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNNUMBERED = sa.text("seq IS NULL")
_SQLITE: dict[str, Any] = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The serial `seq` becomes a plain number; rows keep theirs, and `id` takes it too.
        op.execute("ALTER TABLE feed_entry DROP CONSTRAINT pk_feed_entry")
        op.execute("ALTER TABLE feed_entry ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS feed_entry_seq_seq")
        op.execute("ALTER TABLE feed_entry ALTER seq TYPE BIGINT, ALTER seq DROP NOT NULL")
        op.execute("ALTER TABLE feed_entry ADD COLUMN id BIGSERIAL")
        op.execute("UPDATE feed_entry SET id = seq")
        op.execute(
            "SELECT setval(pg_get_serial_sequence('feed_entry', 'id'), "
            "coalesce((SELECT max(id) FROM feed_entry), 0) + 1, false)"
        )
        op.create_primary_key("pk_feed_entry", "feed_entry", ["id"])
        op.create_unique_constraint("uq_feed_entry_seq", "feed_entry", ["seq"])
    else:
        # SQLite rebuilds the table: copied in `seq` order, `id` numbers rows in that order.
        with op.batch_alter_table(
            "feed_entry", copy_from=_feed_table(numbered_by_id=False), **_SQLITE
        ) as batch_op:
            batch_op.add_column(sa.Column("id", sa.Integer(), primary_key=True))
            batch_op.alter_column("seq", existing_type=sa.Integer(), type_=sa.BigInteger())
            batch_op.create_unique_constraint("uq_feed_entry_seq", ["seq"])
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_entry_org")
        batch_op.create_index("ix_feed_entry_org_seq", ["org", "seq"], unique=True)
        batch_op.create_index(
            "ix_feed_entry_unnumbered",
            ["id"],
            postgresql_where=_UNNUMBERED,
            sqlite_where=_UNNUMBERED,
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_entry_unnumbered")
        batch_op.drop_index("ix_feed_entry_org_seq")
        batch_op.create_index("ix_feed_entry_org", ["org"])
    # Entries not numbered yet take the next numbers, in the order they were written.
    op.execute(
        "UPDATE feed_entry SET seq = id + (SELECT coalesce(max(seq), 0) FROM feed_entry) "
        "WHERE seq IS NULL"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE feed_entry DROP CONSTRAINT uq_feed_entry_seq")
        op.execute("ALTER TABLE feed_entry DROP CONSTRAINT pk_feed_entry")
        op.execute("ALTER TABLE feed_entry DROP COLUMN id")
        op.execute("ALTER TABLE feed_entry ALTER seq TYPE INTEGER, ALTER seq SET NOT NULL")
        op.execute("CREATE SEQUENCE feed_entry_seq_seq OWNED BY feed_entry.seq")
        op.execute(
            "SELECT setval('feed_entry_seq_seq', "
            "coalesce((SELECT max(seq) FROM feed_entry), 0) + 1, false)"
        )
        op.execute("ALTER TABLE feed_entry ALTER seq SET DEFAULT nextval('feed_entry_seq_seq')")
        op.create_primary_key("pk_feed_entry", "feed_entry", ["seq"])
    else:
        with op.batch_alter_table(
            "feed_entry", copy_from=_feed_table(numbered_by_id=True), **_SQLITE
        ) as batch_op:
            batch_op.drop_column("id")
            batch_op.alter_column(
                "seq", type_=sa.Integer(), existing_type=sa.BigInteger(), nullable=False
            )
            batch_op.create_primary_key("pk_feed_entry", ["seq"])


def _feed_table(*, numbered_by_id: bool) -> sa.Table:
    """The feed table as SQLite has it, without the primary key that changes column."""
    columns = [sa.Column("id", sa.Integer(), nullable=False)] if numbered_by_id else []
    return sa.Table(
        "feed_entry",
        sa.MetaData(),
        *columns,
        sa.Column("seq", sa.BigInteger() if numbered_by_id else sa.Integer(), nullable=True),
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
            name="fk_feed_entry_shipment_id_shipment",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("shipment_id", name="uq_feed_entry_shipment_id"),
        sa.Index("ix_feed_entry_org", "org"),
    )
