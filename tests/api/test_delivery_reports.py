"""Delivery reports: every final status, and the reports that must not change it."""

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import Session, select

from domain.ids import client_reference, workflow_id
from store import shipments
from store.models import DeadReport, ShipmentEvent
from tests.conftest import Stack, Tenant
from tests.helpers import (
    EMAIL,
    REPORTS,
    SMS,
    completed_manifest,
    email_order,
    eventually,
    new_key,
    signed_report,
    sms_order,
)

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


def history(stack: Stack, shipment_id: str) -> list[ShipmentEvent]:
    with Session(stack.engine) as session:
        return shipments.history(session, shipment_id)


async def order(stack: Stack, tenant: Tenant, route: str, body: dict[str, Any]) -> str:
    response = await stack.api.post(route, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    shipment_id: str = response.json()["notification"]["shipmentId"]
    return shipment_id


async def waiting(stack: Stack, tenant: Tenant) -> tuple[str, str, str]:
    """An SMS whose gateway stays silent: (idempotencyId, shipmentId, our reference)."""
    key = new_key()
    shipment_id = await order(stack, tenant, SMS, sms_order("+4799990008", key=key, ttl=600))
    return key, shipment_id, client_reference(workflow_id(tenant.org, key))


@pytest.mark.parametrize(("phone", "status"), SMS_FINAL.items())
async def test_sms_reaches_its_final_status(
    stack: Stack, tenant: Tenant, phone: str, status: str
) -> None:
    shipment_id = await order(stack, tenant, SMS, sms_order(phone, ttl=60))

    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id)

    assert manifest["recipients"][0]["status"] == status


@pytest.mark.parametrize(("local", "status"), EMAIL_FINAL.items())
async def test_email_reaches_its_final_status(
    stack: Stack, tenant: Tenant, local: str, status: str
) -> None:
    shipment_id = await order(stack, tenant, EMAIL, email_order(f"{local}@example.no"))

    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id)

    assert manifest["recipients"][0]["status"] == status


@pytest.mark.parametrize(
    ("phone", "second"), [("+4799990010", "DELIVRD"), ("+4799990011", "FAILED")]
)
async def test_later_reports_are_kept_but_change_nothing(
    stack: Stack, tenant: Tenant, phone: str, second: str
) -> None:
    shipment_id = await order(stack, tenant, SMS, sms_order(phone))
    await completed_manifest(stack.api, tenant.headers, shipment_id)

    async def both_reports() -> list[ShipmentEvent] | None:
        reports = [e for e in history(stack, shipment_id) if e.provider_status is not None]
        return reports if len(reports) == 2 else None

    first, later = await eventually(both_reports)
    assert (first.provider_status, first.applied) == ("DELIVRD", True)
    assert (later.provider_status, later.applied) == (second, False)
    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id)
    assert manifest["recipients"][0]["status"] == "SMS_Delivered"


async def test_report_before_the_handover_finished_is_applied_after_it(
    stack: Stack, tenant: Tenant
) -> None:
    key = new_key()
    placing = asyncio.create_task(
        stack.api.post(SMS, json=sms_order("+4799990012", key=key), headers=tenant.headers)
    )
    reference = client_reference(workflow_id(tenant.org, key))

    async def row_exists() -> bool:
        with Session(stack.engine) as session:
            return shipments.find_by_reference(session, reference) is not None

    await eventually(row_exists)
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        {"reference": reference, "status": "BARRED", "channel": "SMS"},
    )
    early = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)
    response = await placing

    assert early.status_code == 200
    assert response.status_code == 201
    manifest = await completed_manifest(
        stack.api, tenant.headers, response.json()["notification"]["shipmentId"]
    )
    assert manifest["recipients"][0]["status"] == "SMS_Failed_BarredReceiver"
    kinds = [e.kind for e in history(stack, manifest["shipmentId"])][:3]
    assert kinds == ["order", "handover", "report"]


async def test_report_after_completion_is_kept_as_late(stack: Stack, tenant: Tenant) -> None:
    key = new_key()
    shipment_id = await order(stack, tenant, SMS, sms_order("+4799990001", key=key))
    await stack.client.get_workflow_handle(workflow_id(tenant.org, key)).result()
    reference = client_reference(workflow_id(tenant.org, key))
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        {"reference": reference, "status": "DELIVRD", "channel": "SMS"},
    )

    response = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)

    assert response.status_code == 200
    late = [e for e in history(stack, shipment_id) if e.kind == "late_report"]
    assert [(e.provider_status, e.applied) for e in late] == [("DELIVRD", False)]
    manifest = await completed_manifest(stack.api, tenant.headers, shipment_id)
    assert manifest["recipients"][0]["status"] == "SMS_Failed_InvalidRecipient"


async def test_unknown_reference_is_kept_as_dead(stack: Stack) -> None:
    reference = f"unknown-{new_key()}"
    body, headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": reference, "status": "DELIVRD"}
    )

    response = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)

    assert response.status_code == 200
    with Session(stack.engine) as session:
        dead = session.exec(select(DeadReport).where(DeadReport.reference == reference)).all()
    assert [(d.reason, d.provider) for d in dead] == [("UNKNOWN_REFERENCE", "simulator")]


async def test_signed_but_unreadable_report_is_400_and_kept(stack: Stack) -> None:
    marker = new_key()
    body, headers = signed_report(
        stack.settings.delivery_report_secret, {"reference": marker, "status": "WHATEVER"}
    )

    response = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)

    assert response.status_code == 400
    with Session(stack.engine) as session:
        dead = session.exec(select(DeadReport).where(DeadReport.reason == "UNREADABLE")).all()
    assert any(marker in d.payload for d in dead)


async def forged_variants(stack: Stack, reference: str) -> list[tuple[bytes, dict[str, str]]]:
    payload = {"reference": reference, "status": "FAILED", "channel": "SMS"}
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
    key, shipment_id, reference = await waiting(stack, tenant)
    before = len(history(stack, shipment_id))

    for body, headers in await forged_variants(stack, reference):
        response = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, key))
    signals = [
        e
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signals == []
    assert len(history(stack, shipment_id)) == before
    await handle.terminate(reason="test cleanup")


async def test_replayed_webhook_is_ignored(stack: Stack, tenant: Tenant) -> None:
    _key, shipment_id, reference = await waiting(stack, tenant)
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        {"reference": reference, "status": "DELIVRD", "channel": "SMS"},
    )

    first = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)
    replay = await stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers)

    assert first.json() == {"received": 1, "duplicate": False}
    assert replay.status_code == 200
    assert replay.json() == {"received": 0, "duplicate": True}
    await completed_manifest(stack.api, tenant.headers, shipment_id)
    reports = [e for e in history(stack, shipment_id) if e.kind in ("report", "late_report")]
    assert len(reports) == 1


async def test_unknown_provider_is_404(stack: Stack) -> None:
    body, headers = signed_report(stack.settings.delivery_report_secret, {"reference": "x"})
    response = await stack.api.post(f"{REPORTS}/nobody", content=body, headers=headers)
    assert response.status_code == 404


async def test_concurrent_copies_of_one_webhook_are_processed_once(
    stack: Stack, tenant: Tenant
) -> None:
    _key, shipment_id, reference = await waiting(stack, tenant)
    body, headers = signed_report(
        stack.settings.delivery_report_secret,
        {"reference": reference, "status": "DELIVRD", "channel": "SMS"},
    )

    answers = await asyncio.gather(
        *(stack.api.post(f"{REPORTS}/simulator", content=body, headers=headers) for _ in range(8))
    )

    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 7
    await completed_manifest(stack.api, tenant.headers, shipment_id)
    reports = [e for e in history(stack, shipment_id) if e.kind in ("report", "late_report")]
    assert len(reports) == 1
