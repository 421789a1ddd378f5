"""Message bodies carry codes: they never reach logs, search attributes or memos, and Temporal
stores them only sealed."""

import json
import logging
import uuid

import pytest

from core.codec import ENCODING
from tests.support.answers import shipment_id
from tests.support.bodies import email_order, sms_order
from tests.support.history import completed_history, payloads_in
from tests.support.polling import completed_manifest
from tests.support.routes import EMAIL, SMS
from tests.support.stack import Stack, Tenant

MARKER_BOOKKEEPING = {"seq", "attempt", "activity_id", "activity_type", "complete_time"}
TRACE_CONTEXT = {"traceparent", "tracestate"}  # W3C ids in headers, where traces are made


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_body_is_in_no_log_search_attribute_or_memo(
    stack: Stack, tenant: Tenant, caplog: pytest.LogCaptureFixture, channel: str
) -> None:
    secret = f"code-{uuid.uuid4().hex}"
    order = sms_order(body=secret) if channel == "sms" else email_order(body=secret)
    route = SMS if channel == "sms" else EMAIL
    caplog.set_level(logging.DEBUG)

    response = await stack.api.post(route, json=order, headers=tenant.headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(response))

    assert response.status_code == 201
    assert secret not in caplog.text
    handle = stack.workflow(tenant.org, order["idempotencyId"])
    description = await handle.describe()
    attributes = " ".join(str(v) for v in description.search_attributes.values())
    assert secret not in attributes
    assert secret not in str(await description.memo())
    # As Temporal stores the history (and shows it to the UI and CLI without the codec):
    # every payload sealed but the bookkeeping the SDK writes into a local activity's marker
    # itself (its sequence number, attempt and times) and the trace context of headers, the
    # body in no form.
    events = await completed_history(handle)
    unsealed = [
        set(json.loads(p.data)) for p in payloads_in(events) if p.metadata["encoding"] != ENCODING
    ]
    markers = [keys for keys in unsealed if keys >= MARKER_BOOKKEEPING]
    assert len(markers) == 2
    assert all(keys <= TRACE_CONTEXT for keys in unsealed if keys not in markers)
    assert secret.encode() not in b"".join(event.SerializeToString() for event in events)
