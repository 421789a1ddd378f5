"""The handover activity against the real simulator: outcomes, deadline and ambiguity."""

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.handover import (
    DEADLINE_PASSED,
    GATEWAY_UNAVAILABLE,
    HANDOVER_AMBIGUOUS,
    HandoverActivities,
    HandoverInput,
)
from domain.orders import Channel, EmailMessage, SmsMessage
from gateways.registry import Gateways, build_gateways
from gateways.simulator import SimulatorSms
from gateways.smtp import SmtpEmail, SmtpServer
from tests.conftest import Stack


def email_input(address: str, seconds: float = 2.0) -> HandoverInput:
    return HandoverInput(
        reference=uuid.uuid4().hex,
        ttl_seconds=60,
        deadline=datetime.now(UTC) + timedelta(seconds=seconds),
        email=EmailMessage(address, "noreply@example.no", "Code", "Your code is 5"),
    )


def sms_input(phone: str, seconds: float = 2.0) -> HandoverInput:
    return HandoverInput(
        reference=uuid.uuid4().hex,
        ttl_seconds=60,
        deadline=datetime.now(UTC) + timedelta(seconds=seconds),
        sms=SmsMessage(phone, "Altinn", "Your code is 5"),
    )


async def test_accepted_and_refused_outcomes(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        env = ActivityEnvironment()
        accepted = await env.run(activities.hand_over, sms_input("+4791112222"))
        refused = await env.run(activities.hand_over, sms_input("+4799990001"))

    assert (accepted.status, refused.status) == ("SMS_Accepted", "SMS_Failed_InvalidRecipient")
    assert accepted.gateway_reference is not None
    assert refused.detail is not None


async def test_unavailable_gateway_is_retryable(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4799990009"))

    assert failure.value.type == GATEWAY_UNAVAILABLE
    assert not failure.value.non_retryable


async def test_passed_deadline_is_final(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4791112222", -1))

    assert failure.value.type == DEADLINE_PASSED
    assert failure.value.non_retryable


async def test_silence_from_a_gateway_without_deduplication_is_not_retried(stack: Stack) -> None:
    """Plain SMTP cannot recognise a repeat: a timeout after the request left is ambiguous."""
    settings = stack.settings
    async with httpx.AsyncClient() as http:
        server = SmtpServer(settings.simulator_smtp_host, settings.simulator_smtp_port)
        plain_smtp = SmtpEmail(server, 10.0)
        sms = SimulatorSms(http, settings.simulator_url, 10.0)
        activities = HandoverActivities(Gateways(sms=sms, email=plain_smtp))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(
                activities.hand_over, email_input("hang@example.no", 1.0)
            )

    assert failure.value.type == HANDOVER_AMBIGUOUS
    assert failure.value.non_retryable


async def test_silence_from_a_deduplicating_gateway_is_retried(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4799990013", 1.0))

    assert failure.value.type == GATEWAY_UNAVAILABLE
    assert not failure.value.non_retryable


async def test_each_attempt_is_timed_by_provider_and_outcome(stack: Stack) -> None:
    provider = f"metered-{uuid.uuid4().hex[:6]}"  # a label no other test's handover uses
    phones = {
        "accepted": "+4791112222",
        "invalid_recipient": "+4799990001",
        "unavailable": "+4799990009",
    }
    async with httpx.AsyncClient() as http:
        gateways = build_gateways(stack.settings, http)
        activities = HandoverActivities(gateways, {Channel.SMS: provider})
        for phone in phones.values():
            with contextlib.suppress(ApplicationError):
                await ActivityEnvironment().run(activities.hand_over, sms_input(phone))

    for outcome in phones:
        labels = {"provider": provider, "outcome": outcome}
        count = REGISTRY.get_sample_value("notifications_handover_duration_seconds_count", labels)
        assert count == 1, outcome
