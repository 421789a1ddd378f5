"""The order path's writes in one server-side call each

Revision 0010, after 0009.

On PostgreSQL, the worker's writes of an order (its row before the send; each event of its
history) were transactions of five statements each, every statement a round trip (with BEGIN,
COMMIT and the pool's ping, eight and more): `shipment_inserted` and `event_recorded` do the
same work in one call, in a transaction of its own. What they do is the SQLite path's,
statement by statement (store/shipments.py, store/limits.py); the store's and the API's tests
run both.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The order's row, its first event and the rate limits' check after it, under the tenant's
# advisory lock. A conflict inserts nothing and names the row holding the key instead; a
# window over its limit raises SQLSTATE NL429 (detail: the scope, hint: seconds until room),
# which undoes the insert.
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
                WHERE s.org = r.org AND s.destination = r.destination AND s.id <> r.id
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

# One event of a shipment's history; when applied, the row's new status, and for a final one
# the feed entry (numbered after the commit, by feed_number) and its notification. A repeat
# records nothing. `webhooks`: the tenant `org` has an active subscription.
_EVENT = """
CREATE OR REPLACE FUNCTION event_recorded(
    event jsonb, gateway text, new_order_status text, final boolean, org text, channel text
) RETURNS TABLE (recorded boolean, webhooks boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    e shipment_event := jsonb_populate_record(NULL::shipment_event, event);
    s shipment;
BEGIN
    INSERT INTO shipment_event
        (shipment_id, number, kind, status, applied, provider, provider_status, report_id,
         detail, at)
        VALUES (e.shipment_id, e.number, e.kind, e.status, e.applied, e.provider,
                e.provider_status, e.report_id, e.detail, e.at)
        ON CONFLICT (shipment_id, number) DO NOTHING;
    recorded := FOUND;
    IF recorded AND e.applied AND e.status IS NOT NULL THEN
        UPDATE shipment SET status = e.status, last_update = e.at,
                order_status = new_order_status,
                gateway_reference = coalesce(gateway, shipment.gateway_reference)
            WHERE id = e.shipment_id RETURNING * INTO s;
        IF final THEN
            INSERT INTO feed_entry (org, shipment_id, senders_reference, order_status, channel,
                                    destination, status, last_update)
                VALUES (s.org, s.id, s.senders_reference, s.order_status, s.channel,
                        s.destination, s.status, s.last_update)
                ON CONFLICT (shipment_id) DO NOTHING;
            IF FOUND THEN
                PERFORM pg_notify(event_recorded.channel, s.id);
            END IF;
        END IF;
    END IF;
    webhooks := event_recorded.org IS NOT NULL AND e.applied AND e.status IS NOT NULL
        AND EXISTS (SELECT 1 FROM webhook_subscription w
                    WHERE w.org = event_recorded.org AND w.disabled_at IS NULL);
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SHIPMENT)
        op.execute(_EVENT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION event_recorded(jsonb, text, text, boolean, text, text)")
        op.execute("DROP FUNCTION shipment_inserted(jsonb, jsonb, integer, integer)")
