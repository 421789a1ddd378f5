"""Feed entries numbered by one server-side call

Revision 0009, after 0008.

On PostgreSQL, `feed_number(shipment_id)` numbers every committed entry without a number and
returns the shipment's. Called in a transaction of its own, it holds the feed's advisory lock
only while the server works: no round trip to a client happens inside the lock. Each statement
of a volatile function takes a new snapshot, so the UPDATE after the lock sees every number the
previous holder gave.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FEED_LOCK = 0x6E6F7469  # the lock every writer of the feed takes (store/feed.py until 0009)

_CREATE = f"""
CREATE OR REPLACE FUNCTION feed_number(wanted text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    given bigint;
BEGIN
    SELECT seq INTO given FROM feed_entry WHERE shipment_id = wanted;
    IF NOT FOUND OR given IS NOT NULL THEN
        RETURN given;  -- no entry, or numbered already by another writer's call
    END IF;
    PERFORM pg_advisory_xact_lock({_FEED_LOCK});
    UPDATE feed_entry SET seq = last.seq + unnumbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
          FROM feed_entry WHERE seq IS NULL) AS unnumbered,
         (SELECT coalesce(max(seq), 0) AS seq FROM feed_entry) AS last
    WHERE feed_entry.id = unnumbered.id;
    SELECT seq INTO given FROM feed_entry WHERE shipment_id = wanted;
    RETURN given;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION feed_number(text)")
