"""The payload converter: pydantic's JSON reads what the SDK's own converter wrote (every history
from before) and the other way round, nested dataclasses, enums and times included; and one
process builds each type's adapter once, not once for each workflow run."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from temporalio.converter import DataConverter, PayloadConverter

from activities.handover import HandoverInput
from core.payloads import PayloadConverter as ServicePayloadConverter
from domain.handover import HandoverResult
from domain.reports import DeliveryReport, MatchKey
from tests.support.webhooks import completed_event
from tests.support.workflows import notification_input, report, with_row

SMS_ORDER = notification_input("ttd", sms="+4791234567", body="Your code is 123456")
REPORT = replace(
    report(SMS_ORDER, "DELIVERED", "SMS_Delivered"), matched_by=MatchKey.GATEWAY_REFERENCE
)
HANDED_OVER = with_row(
    HandoverInput(
        reference="ref",
        ttl_seconds=300,
        deadline=REPORT.received_at,
        sms=SMS_ORDER.sms,
        record_as=1,
    ),
    10.0,
)
VALUES: list[Any] = [
    SMS_ORDER,
    notification_input("ttd", email="kari@example.no", body="<b>123456</b>"),
    HANDED_OVER,
    HandoverResult(
        status="SMS_Accepted",
        at=REPORT.received_at,
        recorded=True,
        recorded_at=REPORT.received_at,
        held_reports=[REPORT],
    ),
    completed_event("ttd"),
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
    assert read.received_at == REPORT.received_at
    assert read.matched_by is MatchKey.GATEWAY_REFERENCE


def test_fields_added_later_are_ignored_and_fields_missing_take_their_defaults() -> None:
    converter = ServicePayloadConverter()
    at = REPORT.received_at
    [payload] = converter.to_payloads([{"status": "SMS_Accepted", "at": at.isoformat(), "new": 1}])

    [read] = converter.from_payloads([payload], [HandoverResult])

    assert read == HandoverResult(status="SMS_Accepted", at=at)


def test_every_converter_of_the_process_shares_one_json_converter() -> None:
    # The SDK makes a payload converter for each workflow run: a JSON converter of each one's
    # own would build pydantic's type adapters again for every run (+13 ms of CPU per order).
    first, second = ServicePayloadConverter(), ServicePayloadConverter()

    assert first.converters[b"json/plain"] is second.converters[b"json/plain"]
