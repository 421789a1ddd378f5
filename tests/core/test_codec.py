"""Payload encryption: bodies unreadable in Temporal's history, readable across key rotation."""

import base64
import os
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from core.codec import ENCODING, EncryptionCodec, KeyringError, parse_keyring
from tests.support.bodies import new_org
from tests.support.inprocess import workflow_worker
from tests.support.stack import Stack
from tests.support.workflows import notification_input, start_notification


def key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


async def test_round_trip_and_rotation() -> None:
    old, new = key("k1"), key("k2")
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"body": "code 123456"}')
    sealed = await EncryptionCodec(parse_keyring(old)).encode([payload])

    opened = await EncryptionCodec(parse_keyring(f"{new},{old}")).decode(sealed)

    assert sealed[0].metadata["encoding"] == ENCODING
    assert b"123456" not in sealed[0].data
    assert opened == [payload]


async def test_unknown_key_other_key_and_tampering_are_refused() -> None:
    keyring = parse_keyring(key("k1"))
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"{}")
    sealed = await EncryptionCodec(keyring).encode([payload])
    # The last byte flipped: set to a fixed value, it was that value already once in 256 runs.
    flipped = bytes([sealed[0].data[-1] ^ 1])
    tampered = Payload(metadata=sealed[0].metadata, data=sealed[0].data[:-1] + flipped)

    with pytest.raises(KeyringError):
        await EncryptionCodec(parse_keyring(key("k9"))).decode(sealed)
    with pytest.raises(InvalidTag):
        await EncryptionCodec(parse_keyring(key("k1"))).decode(sealed)  # same id, other key
    with pytest.raises(InvalidTag):
        await EncryptionCodec(keyring).decode([tampered])
    assert await EncryptionCodec(keyring).decode(sealed) == [payload]


@pytest.mark.parametrize(
    "spec",
    [
        "k1",
        "k1:not-base64!",
        f"k1:{base64.b64encode(b'short').decode()}",
        f":{base64.b64encode(bytes(32)).decode()}",
    ],
)
def test_malformed_keys_are_refused(spec: str) -> None:
    with pytest.raises(KeyringError):
        parse_keyring(spec)


async def test_history_holds_no_readable_body(stack: Stack) -> None:
    """The stack seals its payloads as every deployment does; its client opens them."""
    secret = f"code-{uuid.uuid4().hex}"
    data = notification_input(new_org(), ttl=600, sms="+4799990001", body=secret)

    async with workflow_worker(stack.client, stack) as task_queue:
        handle = await start_notification(stack.client, task_queue, data)
        result = await handle.result()

    assert result.status == "SMS_Failed_InvalidRecipient"
    # The history as Temporal stores it and shows it to the UI and the CLI.
    raw = [e async for e in handle.fetch_history_events()]
    started = raw[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == ENCODING
    assert secret.encode() not in b"".join(e.SerializeToString() for e in raw)


@pytest.mark.parametrize(
    "spec",
    [
        f"{base64.b64encode(bytes(range(32))).decode()}:k1",  # the wrong way round
        base64.b64encode(bytes(range(32))).decode(),  # without its id
        f"k1:{base64.b64encode(bytes(range(31))).decode()}",  # one byte short
    ],
    ids=["reversed", "no-id", "short"],
)
def test_a_refused_entry_is_named_without_its_key(spec: str) -> None:
    with pytest.raises(KeyringError) as refused:
        parse_keyring(spec)

    assert "entry 1" in str(refused.value) or "key 'k1'" in str(refused.value)
    for part in spec.split(":"):
        if len(part) > 32:
            assert part not in str(refused.value)


def test_one_id_for_two_keys_is_refused() -> None:
    """Otherwise the later key replaced the earlier: a rotation that kept sealing with the old
    key, or a replaced key whose payloads no longer opened."""
    with pytest.raises(KeyringError, match="key 'k1' is named twice"):
        parse_keyring(f"{key('k1')},{key('k1')}")
