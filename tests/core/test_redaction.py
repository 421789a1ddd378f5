"""The codec server's redaction: bodies, subjects and the content hash hidden at any depth,
everything else left as it was; what cannot be read is hidden whole."""

import json
import subprocess
import sys
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload

from core.codec import ENCODING
from core.payloads import PayloadConverter
from core.redaction import redact, without_message
from tests.support.workflows import notification_input


def json_payload(value: Any) -> Payload:
    return PayloadConverter().to_payloads([value])[0]


def read(payload: Payload) -> Any:
    assert payload.metadata["encoding"] == b"json/plain"
    return json.loads(payload.data)


def test_the_workflow_input_keeps_everything_but_body_subject_and_hash() -> None:
    sms = notification_input("ttd", sms="+4791234567", body="Your code is 123456")
    email = notification_input("ttd", email="kari@example.no", body="<b>123456</b>")

    shown_sms, shown_email = read(redact(json_payload(sms))), read(redact(json_payload(email)))

    assert shown_sms["sms"] == {
        "body": "[redacted: 19 characters]",
        "phone_number": "+4791234567",
        "sender": "Altinn",
    }
    assert shown_sms["fingerprint"] == "[redacted: 64 characters]"
    assert shown_sms["idempotency_id"] == sms.idempotency_id
    assert shown_sms["timing"]["ttl_seconds"] == 300
    assert shown_email["email"]["subject"] == "[redacted: 4 characters]"
    assert shown_email["email"]["body"] == "[redacted: 13 characters]"
    assert shown_email["email"]["address"] == "kari@example.no"


def test_fields_are_found_at_any_depth_and_in_lists() -> None:
    value = {"batch": [{"message": {"body": "123456", "to": "+47"}}, {"subject": {"x": 1}}]}

    shown = read(redact(json_payload(value)))

    assert shown == {
        "batch": [
            {"message": {"body": "[redacted: 6 characters]", "to": "+47"}},
            {"subject": "[redacted]"},
        ]
    }


def test_a_payload_without_secrets_is_returned_as_it_was() -> None:
    payload = json_payload({"shipment_id": "s-1", "status": "SMS_Delivered", "body": None})

    assert redact(payload) is payload


def test_half_a_surrogate_pair_beside_a_body_stays_as_it_was_written() -> None:
    payload = Payload(
        metadata={"encoding": b"json/plain"}, data=b'{"body": "123456", "note": "\\ud800\xc3\xa6"}'
    )

    assert read(redact(payload)) == {"body": "[redacted: 6 characters]", "note": "\ud800\u00e6"}


def test_what_cannot_be_read_is_hidden_whole() -> None:
    not_json = Payload(metadata={"encoding": b"json/plain"}, data=b'{"body": "1234')
    binary = Payload(metadata={"encoding": b"binary/plain"}, data=b"Your code is 123456")
    deep = Payload(metadata={"encoding": b"json/plain"}, data=b"[" * 100_000 + b"]" * 100_000)

    assert read(redact(not_json)) == "[redacted: 14 bytes that are not JSON]"
    assert read(redact(binary)) == "[redacted: 19 bytes of binary/plain]"
    assert read(redact(deep)).startswith("[redacted: 200000 bytes")


def test_sealed_and_null_payloads_are_left_alone() -> None:
    sealed = Payload(metadata={"encoding": ENCODING}, data=b"\x00ciphertext")
    null = Payload(metadata={"encoding": b"binary/null"})

    assert redact(sealed) is sealed
    assert redact(null) is null


def test_a_providers_words_lose_the_message_and_every_code_in_it() -> None:
    message = ["Your code is 482913. Link: https://x.no/v/a7Kp2", "Login 2026"]

    said = without_message(
        "30007 filtered 'Your code is 482913. Link: https://x.no/v/a7Kp2' (482913, a7Kp2, 2026)",
        message,
    )

    assert said == "30007 filtered '[redacted: message]' ([redacted], [redacted], [redacted])"


def test_a_code_of_capital_letters_is_found_and_other_words_are_kept() -> None:
    message = ["Din kode: KQXZPT. Gyldig i 5 minutter.", "Koden ØÆÅQ fra ALTINN, ikke SPAM"]

    said = without_message(
        "550 spam: 'kode KQXZPT', Your_code_ØÆÅQ; SPAMHAUS minutter Altinn", message
    )

    assert said == "550 spam: 'kode [redacted]', Your_code_[redacted]; SPAMHAUS minutter Altinn"


def test_a_code_is_found_in_an_encoded_or_escaped_quote() -> None:
    message = ["Hello", "Your code 123456"]
    quotes = ["subject =?utf-8?q?Your_code_123456?=", 'body "Line\\n123456"', "x_123456_y"]

    said = [without_message(quote, message) for quote in quotes]

    assert said == [
        "subject =?utf-8?q?Your_code_[redacted]?=",
        'body "Line\\n[redacted]"',
        "x_[redacted]_y",
    ]


def test_a_code_written_in_groups_is_found() -> None:
    message = ["Din kode er 482 913. Hilsen Altinn", "Ref 48-29-13", "PIN 73\u00a091\u00a005"]
    quote = 'blocked: "Din kode er 482 913." and 48-29-13, 482913, 73\u00a091\u00a005; error 30007'

    said = without_message(quote, message)

    assert (
        said
        == 'blocked: "Din kode er [redacted]." and [redacted], [redacted], [redacted]; error 30007'
    )


@pytest.mark.parametrize(
    ("message", "quote"),
    [
        ("Din kode er 482\u00a0913", "30007 Message filtered: 'Din kode er 482 913'"),
        ("<p>Kode: <b>482&nbsp;913</b></p>", "rejected '<b>482&nbsp;913</b>'"),
        ("Din kode: 48-29-13", "blocked content '48 29 13'"),
        ("Koden er K7-X9Q. Hilsen", "blocked: 'K7-X9Q'"),
        ("Koden er K7-X9Q. Hilsen", "blocked: 'k7x9q'"),
    ],
    ids=["no-break-space-as-space", "html-entity", "dashes-as-spaces", "short-groups", "joined"],
)
def test_a_code_quoted_back_with_other_separators_is_found(message: str, quote: str) -> None:
    said = without_message(quote, [message])

    assert "[redacted]" in said
    assert not any(ch.isdigit() for ch in said.replace("30007", ""))


def test_a_long_one_word_body_does_not_hold_the_worker() -> None:
    """A 60 000-character body of one word (a tenant's to send) refused by a provider: the
    redaction runs in the handover, in the worker's event loop. Patterns that backtracked
    took 90 s over it; now milliseconds. The bound only tells a hang from an answer."""
    script = (
        "from core.redaction import without_message; "
        "print(without_message('550 rejected 4829', ['a' * 60000 + ' 4829']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=True
    )

    assert done.stdout.strip() == "550 rejected [redacted]"
