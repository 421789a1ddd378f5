"""Delivery reports: every final status, and the reports that must not change it."""

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.problems import Problem
from api.reports_inbox import REPORTS_PER_ORDER, ReportInbox
from core.temporal import connect_temporal, data_converter
from devstack.scratch import scratch_connection
from gateways import standard_webhooks
from gateways.acs import operation_id
from gateways.base import InboundReport
from gateways.dsn import DsnReports
from gateways.event_grid import EventGridReports
from gateways.mail_outline import outline
from gateways.registry import build_report_readers
from store.models import (
    MAX_PROVIDER_STATUS,
    DeadReport,
    HeldReport,
    Shipment,
    ShipmentEvent,
    WebhookReceipt,
)
from store.reports import CLAIM_LEASE
from store.widths import fitted_id, storable
from tests.support.answers import assert_problem, recipient_status, shipment_id
from tests.support.bodies import email_order, new_key, new_org, reference_of, sms_order
from tests.support.fakes.acs import delivery_report_event
from tests.support.fakes.smtp import Received, delivery_status_notification
from tests.support.polling import completed_manifest, eventually, final_status
from tests.support.reports import DSN_URL, LONG_BOUNCE, bounce, signed_report, sms_report
from tests.support.routes import EMAIL, REPORTS, SHIPMENT, SIMULATOR_REPORTS, SMS
from tests.support.stack import Stack, Tenant
from tests.support.store import dead_reports, history, new_shipment, reports_in, shipment_row

pytestmark = pytest.mark.both_databases

SMS_FINAL = {
    "+4799990002": "SMS_Failed",
    "+4799990003": "SMS_Failed_BarredReceiver",
    "+4799990004": "SMS_Failed_Expired",
    "+4799990005": "SMS_Failed_Undelivered",
    "+4799990006": "SMS_Failed_Rejected",
    "+4799990007": "SMS_Failed_Deleted",
    "+4799990010": "SMS_Delivered",
    "+4799990011": "SMS_Delivered",
    "+4799990012": "SMS_Delivered",
    "+4791234567": "SMS_Delivered",
}
EMAIL_FINAL = {
    "failed": "Email_Failed",
    "bounced": "Email_Failed_Bounced",
    "suppressed": "Email_Failed_SuppressedRecipient",
    "spam": "Email_Failed_FilteredSpam",
    "quarantined": "Email_Failed_Quarantined",
    "duplicate": "Email_Delivered",
    "flip": "Email_Delivered",
    "slow": "Email_Delivered",
    "someone": "Email_Delivered",
}


async def order(stack: Stack, tenant: Tenant, route: str, body: dict[str, Any]) -> str:
    response = await stack.api.post(route, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return shipment_id(response)


async def waiting(stack: Stack, tenant: Tenant) -> tuple[str, str, str]:
    """An SMS whose gateway stays silent: (idempotencyId, shipmentId, our reference)."""
    key = new_key()
    shipment = await order(stack, tenant, SMS, sms_order("+4799990008", key=key, ttl=600))
    return key, shipment, reference_of(tenant.org, key)


async def deliver(stack: Stack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """A report delivered to the simulator's report route."""
    return await stack.api.post(SIMULATOR_REPORTS, content=body, headers=headers)


@pytest.mark.parametrize(("phone", "status"), SMS_FINAL.items())
async def test_sms_reaches_its_final_status(
    stack: Stack, tenant: Tenant, phone: str, status: str
) -> None:
    shipment = await order(stack, tenant, SMS, sms_order(phone, ttl=60))

    assert await final_status(stack.api, tenant.headers, shipment) == status


@pytest.mark.parametrize(("local", "status"), EMAIL_FINAL.items())
async def test_email_reaches_its_final_status(
    stack: Stack, tenant: Tenant, local: str, status: str
) -> None:
    shipment = await order(stack, tenant, EMAIL, email_order(f"{local}@example.no"))

    assert await final_status(stack.api, tenant.headers, shipment) == status


@pytest.mark.parametrize(
    ("phone", "second"), [("+4799990010", "DELIVRD"), ("+4799990011", "FAILED")]
)
async def test_later_reports_are_kept_but_change_nothing(
    stack: Stack, tenant: Tenant, phone: str, second: str
) -> None:
    shipment = await order(stack, tenant, SMS, sms_order(phone))
    await completed_manifest(stack.api, tenant.headers, shipment)

    async def both_reports() -> list[ShipmentEvent] | None:
        reports = reports_in(history(stack.engine, shipment))
        return reports if len(reports) == 2 else None

    first, later = await eventually(both_reports)
    assert (first.provider_status, first.applied) == ("DELIVRD", True)
    assert (later.provider_status, later.applied) == (second, False)
    assert await final_status(stack.api, tenant.headers, shipment) == "SMS_Delivered"


async def test_report_before_the_handover_finished_is_applied_after_it(
    stack: Stack, tenant: Tenant
) -> None:
    key = new_key()
    placing = asyncio.create_task(
        stack.api.post(SMS, json=sms_order("+4799990012", key=key), headers=tenant.headers)
    )

    async def row_exists() -> bool:
        return shipment_row(stack.engine, tenant.org, key) is not None

    await eventually(row_exists)
    body, headers = signed_report(
        stack.settings.delivery_report_secret, sms_report(reference_of(tenant.org, key), "BARRED")
    )
    early = await deliver(stack, body, headers)
    response = await placing

    assert early.status_code == 200
    assert response.status_code == 201
    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id(response))
    assert recipient_status(manifest) == "SMS_Failed_BarredReceiver"
    kinds = [e.kind for e in history(stack.engine, manifest["shipmentId"])][:3]
    assert kinds == ["order", "handover", "report"]


async def test_report_after_completion_is_kept_as_late(stack: Stack, tenant: Tenant) -> None:
    key = new_key()
    shipment = await order(stack, tenant, SMS, sms_order("+4799990001", key=key))
    await stack.workflow(tenant.org, key).result()
    body, headers = signed_report(
        stack.settings.delivery_report_secret, sms_report(reference_of(tenant.org, key), "DELIVRD")
    )

    response = await deliver(stack, body, headers)

    assert response.status_code == 200
    late = [e for e in history(stack.engine, shipment) if e.kind == "late_report"]
    assert [(e.provider_status, e.applied) for e in late] == [("DELIVRD", False)]
    assert await final_status(stack.api, tenant.headers, shipment) == "SMS_Failed_InvalidRecipient"


async def test_unknown_reference_is_kept_as_dead(stack: Stack) -> None:
    reference = f"unknown-{new_key()}"
    body, headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": reference, "status": "DELIVRD"}
    )

    response = await deliver(stack, body, headers)

    assert response.status_code == 200
    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.provider) for d in dead] == [("UNKNOWN_REFERENCE", "simulator")]


def sent_by(
    engine: Engine, shipment_id: str, provider: str, gateway_reference: str | None = None
) -> None:
    """Name the provider that took the shipment's message (only its reports count), and the
    id it gave the message (None: none yet, as while its handover runs)."""
    with Session(engine) as session:
        row = session.get(Shipment, shipment_id)
        assert row is not None
        row.provider = provider
        row.gateway_reference = gateway_reference
        session.add(row)
        session.commit()


async def sent_by_smtp(stack: Stack, tenant: Tenant) -> tuple[str, str, str]:
    """A completed email order, its message named as SMTP's (the stack's simulator relays no
    DSN): its shipment, our reference and the Message-ID a bounce of it returns."""
    key = new_key()
    shipment = await order(stack, tenant, EMAIL, email_order("someone@example.no", key=key))
    await stack.workflow(tenant.org, key).result()
    message_id = f"<{uuid.uuid4().hex}@notifications.local>"
    sent_by(stack.engine, shipment, "smtp", message_id)
    return shipment, reference_of(tenant.org, key), message_id


def dsn_inbox(stack: Stack) -> ReportInbox:
    """The API's inbox with SMTP's reader (the stack's simulator relays no DSN)."""
    return ReportInbox(stack.client, stack.engine, {"smtp": DsnReports("smtp", "dsn-secret")})


@asynccontextmanager
async def silent_temporal() -> AsyncIterator[str]:
    """An address that takes connections and never answers: Temporal hung, not gone."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_delivery_cut_off_leaves_its_reports_to_the_providers_retry(
    stack: Stack, tenant: Tenant
) -> None:
    """While the first delivery hangs (Temporal hung), a retry is not a replay: it is asked to
    come back. A claim left by an API stopped on the way is taken over once its lease is out."""
    _, shipment, reference = await waiting(stack, tenant)
    webhook_id = f"msg_{new_key()}"
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        sms_report(reference, "DELIVRD"),
        webhook_id=webhook_id,
    )
    inbound = InboundReport(f"http://api{SIMULATOR_REPORTS}", headers, body)
    readers = build_report_readers(stack.settings)
    inbox = ReportInbox(stack.client, stack.engine, readers)

    async with silent_temporal() as address:
        # Lazy: the factory's own first connection would wait out the silence.
        hung = await Client.connect(
            address, lazy=True, data_converter=data_converter(stack.settings)
        )
        first = asyncio.create_task(
            ReportInbox(hung, stack.engine, readers).receive("simulator", inbound)
        )

        async def claimed() -> bool:
            """The first delivery holds the id: its receipt is written, not done."""
            with Session(stack.engine) as session:
                receipt = session.get(WebhookReceipt, webhook_id)
                return receipt is not None and not receipt.done

        await eventually(claimed)
        with pytest.raises(Problem) as busy:
            await inbox.receive("simulator", inbound)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
    # What an API killed mid-delivery leaves: the id taken, never finished nor released.
    cut_off = datetime.now(UTC) - CLAIM_LEASE - timedelta(seconds=1)
    with Session(stack.engine) as session:
        session.add(WebhookReceipt(webhook_id=webhook_id, received_at=cut_off, done=False))
        session.commit()
    retry = await inbox.receive("simulator", inbound)
    replay = await inbox.receive("simulator", inbound)

    assert busy.value.status == 503
    assert (retry.received, retry.duplicate, replay.duplicate) == (1, False, True)
    assert await final_status(stack.api, tenant.headers, shipment) == "SMS_Delivered"


def acs_inbox(client: Client, stack: Stack) -> ReportInbox:
    """The API's inbox with ACS's Event Grid reader."""
    return ReportInbox(client, stack.engine, {"acs": EventGridReports("acs", "grid-secret")})


async def test_a_batchs_unreadable_events_are_kept_once_when_the_batch_is_delivered(
    stack: Stack,
) -> None:
    """Event Grid resends the request a 503 answered: what was kept then would be kept again."""
    shipment = new_shipment(stack.engine, new_org())
    operation = uuid.uuid4().hex
    sent_by(stack.engine, shipment, "acs", gateway_reference=operation)
    no_message_id = {"status": "Delivered"}
    events = [
        {**delivery_report_event("x", "a@x.no", "b@x.no", "Delivered"), "data": no_message_id}
    ]
    events = events * 3 + [delivery_report_event(operation, "a@x.no", "b@x.no", "Delivered")]
    body = json.dumps(events).encode()
    url = f"http://api{REPORTS}/acs?code=grid-secret"
    down = await connect_temporal(stack.settings, scratch_connection(), lazy=True)

    for _ in range(2):
        with pytest.raises(Problem) as refused:
            await acs_inbox(down, stack).receive("acs", InboundReport(url, {}, body))
        assert refused.value.status == 503
    delivered = await acs_inbox(stack.client, stack).receive("acs", InboundReport(url, {}, body))

    assert delivered.received == 1
    with Session(stack.engine) as session:
        dead = session.exec(select(DeadReport).where(DeadReport.payload == body.decode())).all()
    assert [(d.reason, d.provider) for d in dead] == [("UNREADABLE", "acs")]


async def test_a_late_bounce_longer_than_its_columns_is_kept_and_its_replay_known(
    stack: Stack, tenant: Tenant
) -> None:
    shipment, reference, returned = await sent_by_smtp(stack, tenant)
    message_id = f"{uuid.uuid4().hex * 8}@mx.example"  # the DSN's id, and its delivery's
    dsn = bounce(reference, message_id=message_id, returned_id=returned)
    inbox = dsn_inbox(stack)

    first = await inbox.receive("smtp", InboundReport(DSN_URL, {}, dsn))
    replay = await inbox.receive("smtp", InboundReport(DSN_URL, {}, dsn))

    assert (first.received, replay.duplicate) == (1, True)
    [late] = [e for e in history(stack.engine, shipment) if e.kind == "late_report"]
    assert late.provider_status == f"failed {LONG_BOUNCE}"[:MAX_PROVIDER_STATUS]
    assert late.report_id == fitted_id(message_id)
    assert await final_status(stack.api, tenant.headers, shipment) == "Email_Delivered"


async def test_an_unknown_reference_longer_than_its_column_is_kept_as_dead(stack: Stack) -> None:
    reference = f"unknown-{uuid.uuid4().hex * 8}"

    result = await dsn_inbox(stack).receive("smtp", InboundReport(DSN_URL, {}, bounce(reference)))

    assert result.received == 1
    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.provider) for d in dead] == [("UNKNOWN_REFERENCE", "smtp")]


async def test_mail_relayed_to_the_dsn_route_is_kept_without_what_it_quotes(stack: Stack) -> None:
    """The sender's mailbox gets out-of-office replies and bounces too, quoting our message:
    each is kept as a dead report with its headers and status fields, without body or subject."""
    code, marker = "482913", uuid.uuid4().hex
    reply = EmailMessage()
    reply["From"] = f"{marker}@example.no"
    reply["Subject"] = f"Automatic reply: Your code is {code}"
    reply.set_content(f"Away.\n> Your code is {code}\n")
    original = f"To: {marker}@example.no\r\nSubject: Your code is {code}\r\n\r\n{code}\r\n"
    returned = Received("noreply@example.no", "x@example.no", original.encode(), marker, None, True)
    inbox = dsn_inbox(stack)

    with pytest.raises(Problem):
        await inbox.receive("smtp", InboundReport(DSN_URL, {}, reply.as_bytes()))
    bounced = delivery_status_notification(returned, "failed", "5.1.1")
    await inbox.receive("smtp", InboundReport(DSN_URL, {}, bounced))

    with Session(stack.engine) as session:
        kept = session.exec(select(DeadReport).where(col(DeadReport.payload).contains(marker)))
        dead = {d.reason: d.payload for d in kept}
    assert sorted(dead) == ["UNKNOWN_REFERENCE", "UNREADABLE"]
    assert [code in payload for payload in dead.values()] == [False, False]
    assert all("Subject: [left out]" in payload for payload in dead.values())
    assert "Action: failed" in dead["UNKNOWN_REFERENCE"]


async def test_a_report_holding_nul_is_kept_on_either_database(stack: Stack) -> None:
    """PostgreSQL's text holds no NUL: such a report, matched or unreadable, is still kept."""
    reference = f"unknown-{new_key()}\x00"
    named, named_headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": reference, "status": "DELIVRD"}
    )
    unreadable = f"\x00{new_key()}".encode()
    key = standard_webhooks.secret_key(stack.settings.delivery_report_secret)
    unreadable_headers = standard_webhooks.signed_headers(key, f"msg_{new_key()}", unreadable)

    answers = [
        (await deliver(stack, named, named_headers)).status_code,
        (await deliver(stack, unreadable, unreadable_headers)).status_code,
    ]

    assert answers == [200, 400]
    with Session(stack.engine) as session:
        dead = session.exec(select(DeadReport)).all()
    kept = {(d.reason, d.reference, d.payload) for d in dead}
    assert ("UNREADABLE", None, storable(unreadable.decode())) in kept
    assert ("UNKNOWN_REFERENCE", fitted_id(reference)) in {(r, ref) for r, ref, _ in kept}


async def test_signed_but_unreadable_report_is_400_and_kept(stack: Stack) -> None:
    marker = new_key()
    body, headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": marker, "status": "WHATEVER"}
    )

    response = await deliver(stack, body, headers)

    assert response.status_code == 400
    with Session(stack.engine) as session:
        dead = session.exec(select(DeadReport).where(DeadReport.reason == "UNREADABLE")).all()
    assert any(marker in d.payload for d in dead)


async def forged_variants(stack: Stack, reference: str) -> list[tuple[bytes, dict[str, str]]]:
    payload = sms_report(reference, "FAILED")
    genuine_body, genuine = signed_report(stack.settings.delivery_report_secret, payload)
    wrong_key, wrong = signed_report("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", payload)
    stale_body, stale = signed_report(
        stack.settings.delivery_report_secret, payload, timestamp=int(time.time()) - 301
    )
    tampered = genuine_body.replace(b"FAILED", b"DELIVRD")
    unsigned = {"content-type": "application/json"}
    return [(genuine_body, unsigned), (wrong_key, wrong), (stale_body, stale), (tampered, genuine)]


async def test_forged_unsigned_and_stale_reports_are_401_and_not_applied(
    stack: Stack, tenant: Tenant
) -> None:
    key, shipment, reference = await waiting(stack, tenant)
    before = len(history(stack.engine, shipment))

    for body, headers in await forged_variants(stack, reference):
        assert_problem(await deliver(stack, body, headers), 401)

    handle = stack.workflow(tenant.org, key)
    signals = [
        e
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals == []
    assert len(history(stack.engine, shipment)) == before
    await handle.terminate(reason="test cleanup")


async def test_replayed_webhook_is_ignored(stack: Stack, tenant: Tenant) -> None:
    _key, shipment, reference = await waiting(stack, tenant)
    body, headers = signed_report(
        stack.settings.delivery_report_secret, sms_report(reference, "DELIVRD")
    )

    first = await deliver(stack, body, headers)
    replay = await deliver(stack, body, headers)

    assert first.json() == {"received": 1, "duplicate": False}
    assert replay.status_code == 200
    assert replay.json() == {"received": 0, "duplicate": True}
    await completed_manifest(stack.api, tenant.headers, shipment)
    assert len(reports_in(history(stack.engine, shipment))) == 1


async def test_unknown_provider_is_404(stack: Stack) -> None:
    body, headers = signed_report(stack.settings.delivery_report_secret, {"reference": "x"})
    response = await stack.api.post(f"{REPORTS}/nobody", content=body, headers=headers)
    assert response.status_code == 404


async def test_concurrent_copies_of_one_webhook_are_processed_once(
    stack: Stack, tenant: Tenant
) -> None:
    _key, shipment, reference = await waiting(stack, tenant)
    body, headers = signed_report(
        stack.settings.delivery_report_secret, sms_report(reference, "DELIVRD")
    )

    answers = await asyncio.gather(*(deliver(stack, body, headers) for _ in range(8)))

    # One processes it; the others are told it is under way (503: come back) or, once it is
    # done, that they are replays.
    processed = [a for a in answers if a.status_code == 200 and not a.json()["duplicate"]]
    assert len(processed) == 1
    assert all(a.status_code == 503 or a.json()["duplicate"] for a in answers if a not in processed)
    await completed_manifest(stack.api, tenant.headers, shipment)
    assert len(reports_in(history(stack.engine, shipment))) == 1


@pytest.mark.parametrize("returned", [None, "<guessed@notifications.local>"])
async def test_a_bounce_that_does_not_return_the_message_decides_nothing(
    stack: Stack, tenant: Tenant, returned: str | None
) -> None:
    """Anyone may mail the DSN mailbox, and a reference can be worked out from a predictable
    key; only the mail servers and the recipient saw the message's Message-ID."""
    shipment, reference, _message_id = await sent_by_smtp(stack, tenant)
    before = history(stack.engine, shipment)
    forged = bounce(reference, "5.1.1", returned_id=returned)

    result = await dsn_inbox(stack).receive("smtp", InboundReport(DSN_URL, {}, forged))

    assert result.received == 1
    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.provider) for d in dead] == [("UNPROVEN", "smtp")]
    assert len(history(stack.engine, shipment)) == len(before)
    assert await final_status(stack.api, tenant.headers, shipment) == "Email_Delivered"


async def test_a_dsn_of_many_recipients_for_an_unknown_reference_is_kept_once(
    stack: Stack,
) -> None:
    """Its recipients all name the one envelope: one dead report holds the mail's outline (its
    headers and status fields), not one each."""
    reference = f"unknown-{uuid.uuid4().hex}"
    dsn = bounce(reference).decode()
    block = dsn[dsn.index("Final-Recipient:") : dsn.index("\r\n\r\n", dsn.index("Action:")) + 4]
    many = dsn.replace(block, block * 5).encode()

    result = await dsn_inbox(stack).receive("smtp", InboundReport(DSN_URL, {}, many))

    assert result.received == 5
    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.payload) for d in dead] == [
        ("UNKNOWN_REFERENCE", outline(message_from_bytes(many)).decode())
    ]
    assert dead[0].payload.count("Final-Recipient:") == 5


async def test_reports_that_decide_nothing_past_the_fill_are_kept_without_the_workflow(
    stack: Stack, tenant: Tenant
) -> None:
    """A flood of reports in flight would grow the order's history until it could no longer be
    replayed in time: past its fill they are kept in the shipment's history only, and the final
    report is still applied."""
    key, shipment, reference = await waiting(stack, tenant)
    secret, surplus = stack.settings.delivery_report_secret, 5
    for _ in range((REPORTS_PER_ORDER + surplus) // 15):
        sent = [signed_report(secret, sms_report(reference, "ENROUTE")) for _ in range(15)]
        answers = await asyncio.gather(*(deliver(stack, body, h) for body, h in sent))
        assert {a.status_code for a in answers} == {200}
    body, headers = signed_report(secret, sms_report(reference, "DELIVRD"))
    assert (await deliver(stack, body, headers)).status_code == 200

    await stack.workflow(tenant.org, key).result()
    events = history(stack.engine, shipment)
    kinds = Counter((e.kind, e.provider_status) for e in events if e.kind != "order")
    signals = [
        e
        for e in (await stack.workflow(tenant.org, key).fetch_history()).events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert kinds[("report", "ENROUTE")] == REPORTS_PER_ORDER
    assert kinds[("surplus_report", "ENROUTE")] == surplus
    assert kinds[("report", "DELIVRD")] == 1
    assert len(signals) == REPORTS_PER_ORDER + 1
    assert await final_status(stack.api, tenant.headers, shipment) == "SMS_Delivered"


async def test_final_reports_after_the_final_status_count_toward_the_fill(
    stack: Stack, tenant: Tenant
) -> None:
    """Once the shipment is final a final report decides nothing either: repeats of it, sent
    while the workflow is still open (its webhooks' first attempts), would grow its history."""
    key = new_key()
    shipment = await order(stack, tenant, SMS, sms_order("+4791234567", key=key))
    await completed_manifest(stack.api, tenant.headers, shipment)
    secret, reference = stack.settings.delivery_report_secret, reference_of(tenant.org, key)
    for _ in range((REPORTS_PER_ORDER + 5) // 15):
        sent = [signed_report(secret, sms_report(reference, "DELIVRD")) for _ in range(15)]
        answers = await asyncio.gather(*(deliver(stack, body, h) for body, h in sent))
        assert {a.status_code for a in answers} == {200}

    kinds = Counter(e.kind for e in history(stack.engine, shipment))
    row = shipment_row(stack.engine, tenant.org, key)
    assert row is not None
    assert row.reports_signalled == REPORTS_PER_ORDER
    assert kinds["surplus_report"] == 5


async def test_a_report_over_64_kib_is_kept(stack: Stack) -> None:
    """A provider's report may quote more than an order holds (Event Grid batches up to 1 MB)."""
    reference = f"unknown-{new_key()}"
    report = {"reference": reference, "status": "DELIVRD", "detail": "x" * 200_000}
    body, headers = signed_report(stack.settings.delivery_report_secret, report)

    response = await deliver(stack, body, headers)

    assert response.status_code == 200, response.text
    dead = dead_reports(stack.engine, reference)
    assert [d.reason for d in dead] == ["UNKNOWN_REFERENCE"]


async def test_a_bounce_naming_a_message_for_another_providers_shipment_is_not_held(
    stack: Stack, tenant: Tenant
) -> None:
    """A held report is applied unchecked once claimed, and an ACS operation id follows from our
    reference: a bounce that returns that id for an ACS shipment still without its gateway's
    name is kept dead, not held for the name to come."""
    _, shipment, reference = await waiting(stack, tenant)
    sent_by(stack.engine, shipment, "acs")
    guessed = operation_id(reference)

    bounced = bounce(reference, returned_id=f"<{guessed}>")
    await dsn_inbox(stack).receive("smtp", InboundReport(DSN_URL, {}, bounced))

    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.provider) for d in dead] == [("OTHER_PROVIDER", "smtp")]
    with Session(stack.engine) as session:
        held = select(HeldReport).where(col(HeldReport.gateway_reference).contains(guessed))
        assert session.exec(held).all() == []


async def test_a_report_from_a_provider_not_asked_is_kept_and_decides_nothing(
    stack: Stack, tenant: Tenant
) -> None:
    """Anyone may mail the mailbox whose DSNs the SMTP route relays, and our reference is a
    hash of tenant and key: a forged bounce for an SMS, or for another provider's email."""
    _, shipment, reference = await waiting(stack, tenant)

    forged = await dsn_inbox(stack).receive("smtp", InboundReport(DSN_URL, {}, bounce(reference)))

    assert forged.received == 1
    dead = dead_reports(stack.engine, reference)
    assert [(d.reason, d.provider) for d in dead] == [("OTHER_PROVIDER", "smtp")]
    manifest = (await stack.api.get(f"{SHIPMENT}/{shipment}", headers=tenant.headers)).json()
    assert recipient_status(manifest) == "SMS_Accepted"
