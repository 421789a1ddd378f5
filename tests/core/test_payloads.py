"""The payload converter: pydantic's JSON reads what the SDK's own converter wrote (every history
from before) and the other way round, nested dataclasses, enums and times included; and one
process builds each type's adapter once, not once for each workflow run."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.converter import DataConverter, PayloadConverter

from activities.handover import HandoverInput
from activities.records import ShipmentInput
from core.payloads import PayloadConverter as ServicePayloadConverter
from domain.handover import HandoverResult
from domain.manifest import ShipmentManifest
from domain.reports import DeliveryReport, MatchKey
from domain.webhooks import EventType, WebhookEvent
from tests.support.workflows import notification_input

AT = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
REPORT = DeliveryReport(
    reference="r1",
    provider="simulator",
    provider_status="DELIVERED",
    received_at=AT,
    status="SMS_Delivered",
    matched_by=MatchKey.GATEWAY_REFERENCE,
)
MANIFEST = ShipmentManifest(
    shipment_id="s1",
    senders_reference=None,
    order_status="Order_Completed",
    channel="SMS",
    destination="+4791234567",
    status="SMS_Delivered",
    last_update=AT,
)
SHIPMENT = ShipmentInput(
    shipment_id="s1",
    order_id="o1",
    org="ttd",
    idempotency_id="k1",
    workflow_id="instant/ttd/k1",
    reference="ref",
    fingerprint="f" * 64,
    channel="SMS",
    destination="+4791234567",
    status="SMS_Sending",
    order_status="Order_Processed",
    created_at=AT,
    expires_at=AT + timedelta(seconds=300),
)
SMS_ORDER = notification_input("ttd", sms="+4791234567", body="Your code is 123456")
VALUES: list[Any] = [
    SMS_ORDER,
    notification_input("ttd", email="kari@example.no", body="<b>123456</b>"),
    HandoverInput(
        reference="ref",
        ttl_seconds=300,
        deadline=AT,
        sms=SMS_ORDER.sms,
        shipment=SHIPMENT,
        record_as=1,
    ),
    HandoverResult(
        status="SMS_Accepted", at=AT, recorded=True, recorded_at=AT, held_reports=[REPORT]
    ),
    WebhookEvent(org="ttd", type=EventType.COMPLETED, manifest=MANIFEST, occurred_at=AT),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        (DataConverter.default.payload_converter, ServicePayloadConverter()),
        (ServicePayloadConverter(), DataConverter.default.payload_converter),
        (ServicePayloadConverter(), ServicePayloadConverter()),
    ],
    ids=["sdk-to-service", "service-to-sdk", "service"],
)
def test_each_converter_reads_what_the_other_wrote(
    value: Any, writer: PayloadConverter, reader: PayloadConverter
) -> None:
    [payload] = writer.to_payloads([value])

    [read] = reader.from_payloads([payload], [type(value)])

    assert payload.metadata["encoding"] == b"json/plain"
    assert read == value
    assert type(read) is type(value)


def test_times_keep_their_instant_and_enums_their_members() -> None:
    converter = ServicePayloadConverter()
    [payload] = converter.to_payloads([REPORT])

    [read] = converter.from_payloads([payload], [DeliveryReport])

    assert read.received_at.utcoffset() == timedelta(0)
    assert read.received_at == AT
    assert read.matched_by is MatchKey.GATEWAY_REFERENCE


def test_fields_added_later_are_ignored_and_fields_missing_take_their_defaults() -> None:
    converter = ServicePayloadConverter()
    [payload] = converter.to_payloads([{"status": "SMS_Accepted", "at": AT.isoformat(), "new": 1}])

    [read] = converter.from_payloads([payload], [HandoverResult])

    assert read == HandoverResult(status="SMS_Accepted", at=AT)


def test_every_converter_of_the_process_shares_one_json_converter() -> None:
    # The SDK makes a payload converter for each workflow run: a JSON converter of each one's
    # own would build pydantic's type adapters again for every run (+13 ms of CPU per order).
    first, second = ServicePayloadConverter(), ServicePayloadConverter()

    assert first.converters[b"json/plain"] is second.converters[b"json/plain"]
