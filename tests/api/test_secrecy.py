"""Message bodies carry codes: they never reach logs, search attributes or memos, Temporal
stores them only sealed, and the store keeps no hash of them that a guess could be tested on."""

import hashlib
import json
import logging
import uuid

import pytest
from sqlmodel import Session

from api.ordering import OrderContent
from core.codec import ENCODING, parse_keyring
from core.fingerprints import Fingerprints
from domain.orders import SmsMessage
from store.models import Shipment
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


async def test_the_stores_fingerprint_cannot_be_tested_against_a_guessed_code(
    stack: Stack, tenant: Tenant
) -> None:
    """The row keeps the recipient beside the fingerprint: a plain hash of the order would
    give a templated code away to a million guesses; the keyed one tells only a repeat."""
    order = sms_order(body="Your code is 482913")
    sms = order["recipientSms"]
    content = OrderContent(
        idempotency_id=order["idempotencyId"],
        sms=SmsMessage(
            sms["phoneNumber"], stack.settings.sms_default_sender, sms["smsSettings"]["body"]
        ),
        ttl_seconds=sms["timeToLiveInSeconds"],
    )

    response = await stack.api.post(SMS, json=order, headers=tenant.headers)

    assert response.status_code == 201
    with Session(stack.engine) as session:
        stored = session.get(Shipment, shipment_id(response))
    assert stored is not None
    guesses = [
        content.canonical().replace(b"482913", f"{n:06d}".encode()) for n in range(482_000, 483_000)
    ]
    assert stored.fingerprint not in {hashlib.sha256(g).hexdigest() for g in guesses}
    fingerprints = Fingerprints(parse_keyring(stack.settings.payload_encryption_key))
    assert not fingerprints.differ(stored.fingerprint, content.canonical())
    assert fingerprints.differ(stored.fingerprint, guesses[0])
