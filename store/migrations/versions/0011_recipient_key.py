"""The recipient limit counts by the handset or mailbox, not by the destination as written

Revision 0011, after 0010.

`shipment.recipient_key` is the destination as the handset or mailbox it reaches
(domain/recipients.py): `+47 912 34 567`, `0047-91234567` and `+4791234567` are one key, as are
`Kari@Example.NO` and `kari@example.no`. The recipient limit counts by it, through its own
index; `destination` stays as the caller wrote it, which is what a shipment shows.

Rows written before are given their key by SQL: `+` and a number's digits after its `+` or
`00`; an address lower-cased. Only an address with an ASCII (`xn--`) label, or on SQLite with a
capital Æ, Ø or Å, may get another key than the code gives it, which matters only to orders
still inside a recipient window when the migration runs.

During a rolling upgrade the workers of the previous release still write rows without a key:
`shipment_inserted` gives them that SQL key, so their orders are counted by recipient too. The
destination index goes now rather than a release later: on PostgreSQL no query of either
release uses it once the function is replaced, and every insert would keep paying for it.

On PostgreSQL nothing here holds the `shipment` table for longer than a moment: the column
(nullable, so adding it rewrites nothing) and the function commit first; the rows are then
filled in batches of their own, and the index is built and the old one dropped concurrently.
Filled in one statement, a million rows held every order, report and read for a minute.
Until its batch is filled, a row is not counted by the recipient limit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a valid phone number holds besides its digits (api/schemas/rules.py).
_SEPARATORS = (" ", "(", ")", ".", "/", "-", "+")


def _digits(column: str) -> str:
    for separator in _SEPARATORS:
        column = f"replace({column}, '{separator}', '')"
    return column


def _key(channel: str, destination: str) -> str:
    """The recipient key in SQL, for the rows the code did not give one."""
    digits = _digits(destination)
    return f"""CASE
        WHEN {channel} = 'SMS' THEN '+' || CASE
            WHEN {destination} LIKE '00%' THEN substr({digits}, 3) ELSE {digits}
        END
        ELSE lower({destination})
    END"""


_BACKFILL = f"UPDATE shipment SET recipient_key = {_key('channel', 'destination')}"
# One batch, in the order of the primary key from where the last one ended: each takes a
# moment's row locks, and none walks past the rows filled before it.
_BATCH_SIZE = 2_000
_FILL_BATCH = f"""
WITH batch AS (
    SELECT id FROM shipment WHERE id > :after ORDER BY id LIMIT {_BATCH_SIZE}
), filled AS (
    UPDATE shipment SET recipient_key = {_key("channel", "destination")}
    FROM batch WHERE shipment.id = batch.id AND shipment.recipient_key IS NULL
)
SELECT max(id) FROM batch
"""

# Migration 0010's function, but for the column the recipient's orders are found by, and with
# the key of a row that came without one.
_BY_KEY = "s.recipient_key = r.recipient_key"
_BY_DESTINATION = "s.destination = r.destination"
_GIVE_KEY = f"r.recipient_key := coalesce(r.recipient_key, {_key('r.channel', 'r.destination')});"
_SHIPMENT = """
CREATE OR REPLACE FUNCTION shipment_inserted(
    new_row jsonb, limits jsonb, lock_space integer, lock_key integer
) RETURNS TABLE (inserted boolean, holder text, provider text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r shipment := jsonb_populate_record(NULL::shipment, new_row);
    lim record;
    oldest timestamptz;
BEGIN
    KEY_OF_A_ROW_WITHOUT_ONE
    PERFORM pg_advisory_xact_lock(lock_space, lock_key);
    INSERT INTO shipment SELECT (r).* ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, s.id::text, s.provider::text FROM shipment s
            WHERE s.org = r.org AND s.idempotency_id = r.idempotency_id;
        RETURN;
    END IF;
    INSERT INTO shipment_event (shipment_id, number, kind, status, applied, at)
        VALUES (r.id, 0, 'order', r.status, true, r.created_at)
        ON CONFLICT (shipment_id, number) DO NOTHING;
    FOR lim IN SELECT * FROM jsonb_to_recordset(limits)
            AS l(scope text, count integer, window_seconds integer) LOOP
        -- Two statements, not one with an OR, so each keeps its own index.
        IF lim.scope = 'recipient' THEN
            SELECT s.created_at INTO oldest FROM shipment s
                WHERE s.org = r.org AND RECIPIENT_MATCH AND s.id <> r.id
                  AND s.created_at > r.created_at - make_interval(secs => lim.window_seconds)
                ORDER BY s.created_at DESC OFFSET lim.count - 1 LIMIT 1;
        ELSE
            SELECT s.created_at INTO oldest FROM shipment s
                WHERE s.org = r.org AND s.id <> r.id
                  AND s.created_at > r.created_at - make_interval(secs => lim.window_seconds)
                ORDER BY s.created_at DESC OFFSET lim.count - 1 LIMIT 1;
        END IF;
        IF FOUND THEN
            RAISE EXCEPTION 'over the % rate limit', lim.scope USING
                ERRCODE = 'NL429',
                DETAIL = lim.scope,
                HINT = greatest(
                    extract(epoch FROM oldest - r.created_at) + lim.window_seconds, 0)::text;
        END IF;
    END LOOP;
    RETURN QUERY SELECT true, r.id::text, r.provider::text;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # SQLite: one writer, no rolling upgrades; one transaction is quickest.
        op.add_column("shipment", sa.Column("recipient_key", sa.String(length=320), nullable=True))
        op.execute(_BACKFILL)
        op.drop_index("ix_shipment_org_destination_created", table_name="shipment")
        op.create_index(
            "ix_shipment_org_recipient_created", "shipment", ["org", "recipient_key", "created_at"]
        )
        return
    # Every step may find itself done already: a run stopped after the first commit (a
    # timeout, a killed deploy job) leaves the column, and perhaps an index marked invalid,
    # while the revision is still 0010; a plain second run finishes the work.
    op.execute("ALTER TABLE shipment ADD COLUMN IF NOT EXISTS recipient_key VARCHAR(320)")
    op.execute(
        _SHIPMENT.replace("KEY_OF_A_ROW_WITHOUT_ONE", _GIVE_KEY).replace("RECIPIENT_MATCH", _BY_KEY)
    )
    with op.get_context().autocommit_block():
        _fill_in_batches()
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_shipment_org_recipient_created")
        op.create_index(
            "ix_shipment_org_recipient_created",
            "shipment",
            ["org", "recipient_key", "created_at"],
            postgresql_concurrently=True,
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_shipment_org_destination_created")


def _fill_in_batches() -> None:
    connection = op.get_bind()
    after = ""
    while True:
        last = connection.execute(sa.text(_FILL_BATCH), {"after": after}).scalar()
        if last is None:
            return
        after = last


def downgrade() -> None:
    op.drop_index("ix_shipment_org_recipient_created", table_name="shipment")
    op.create_index(
        "ix_shipment_org_destination_created", "shipment", ["org", "destination", "created_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            _SHIPMENT.replace("    KEY_OF_A_ROW_WITHOUT_ONE\n", "").replace(
                "RECIPIENT_MATCH", _BY_DESTINATION
            )
        )
    op.execute("ALTER TABLE shipment DROP COLUMN recipient_key")
