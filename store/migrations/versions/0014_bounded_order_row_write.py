"""The order row's write bounded by its caller's time

Revision 0014, after 0013.

A handover attempt whose row write waited on a lock past the attempt's own timeout left a
thread that committed the row later, naming a provider no one had asked: the next attempt took
it for a send that may have happened. `shipment_inserted` gains an overload that ends within
`within_ms` or fails, writing nothing: each lock wait is bounded by `lock_timeout`, and a call
that took longer in all (several waits, each within the bound) raises before it commits. The
four-argument function stays for workers of the previous release during a rolling upgrade.
SQLite bounds the same write per connection (`store.engine.within`) and needs nothing here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOUNDED = """
CREATE OR REPLACE FUNCTION shipment_inserted(
    new_row jsonb, limits jsonb, lock_space integer, lock_key integer, within_ms integer
) RETURNS TABLE (inserted boolean, holder text, provider text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Local to the transaction, which is the caller's one statement.
    PERFORM set_config('lock_timeout', greatest(within_ms, 1)::text, true);
    RETURN QUERY SELECT * FROM shipment_inserted(new_row, limits, lock_space, lock_key);
    IF clock_timestamp() > statement_timestamp() + within_ms * interval '1 millisecond' THEN
        RAISE EXCEPTION 'the order row took longer than % ms to write', within_ms
            USING ERRCODE = 'lock_not_available';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BOUNDED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION shipment_inserted(jsonb, jsonb, integer, integer, integer)")
