"""The handover activity against the real simulator: outcomes, deadline, ambiguity, resumption."""

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, DefaultFailureConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.handover import HandoverActivities, HandoverInput
from activities.records import RecordActivities, TransitionInput
from devstack.processes import free_port
from domain.failures import FailureKind
from domain.orders import Channel, ContentType, EmailMessage, SmsMessage
from gateways.base import EmailGateway, GatewayUnavailable, Receipt, SmsGateway, SmsSend
from gateways.breaker import CircuitBreaker, CircuitState
from gateways.registry import Gateways, Route, build_gateways
from gateways.simulator import SimulatorSms
from gateways.smtp import SmtpEmail, SmtpServer
from store.failures import store_away
from store.models import Shipment
from tests.support.fakes.smtp import FakeSmtp
from tests.support.simulator import received
from tests.support.stack import Stack
from tests.support.store import soon, table_locked
from tests.support.workflows import with_row

# The order's row is written by a server-side function on PostgreSQL (migration 0010).
pytestmark = pytest.mark.both_databases


def one_each(sms: SmsGateway, email: EmailGateway, name: str = "simulator") -> Gateways:
    """One provider per channel, under `name`, its circuit never opening."""
    return Gateways(
        sms=[Route(name, sms, CircuitBreaker(Channel.SMS, name, 1_000_000, 30))],
        email=[Route(name, email, CircuitBreaker(Channel.EMAIL, name, 1_000_000, 30))],
    )


def sms_only(*routes: Route[SmsGateway]) -> Gateways:
    """These SMS providers, and an email provider no test of them asks (nothing listens)."""
    email = SmtpEmail(SmtpServer("127.0.0.1", free_port()), 2.0)
    return Gateways(
        sms=list(routes), email=[Route("mail", email, CircuitBreaker("Email", "m", 9, 1))]
    )


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


async def test_its_lines_name_the_shipment_an_operator_searches_for(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """The shipment id is what the API answers and the Temporal UI searches by; the reference
    is what the providers know."""
    data = with_row(sms_input("+4791112222"), 5.0)
    caplog.set_level(logging.INFO, logger="activities.handover")
    async with httpx.AsyncClient() as http:
        gateways = build_gateways(stack.settings, http)
        activities = HandoverActivities(gateways, records=RecordActivities(stack.engine))
        await ActivityEnvironment().run(activities.hand_over, data)

    assert data.shipment is not None
    said = [r.getMessage() for r in caplog.records if r.name == "activities.handover"]
    assert f"handover of {data.reference} (shipment {data.shipment.shipment_id})" in said[-1]


async def test_unavailable_gateway_is_retryable(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4799990009"))

    assert failure.value.type == FailureKind.NOT_TAKEN
    assert not failure.value.non_retryable


async def test_unavailable_gateway_is_final_when_no_retry_fits_before_the_deadline(
    stack: Stack,
) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4799990009", 0.8))

    assert failure.value.type == FailureKind.NOT_TAKEN
    assert failure.value.non_retryable


async def test_passed_deadline_is_final(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, sms_input("+4791112222", -1))

    assert failure.value.type == FailureKind.DEADLINE_PASSED
    assert failure.value.non_retryable


async def test_silence_from_a_gateway_without_deduplication_is_not_retried(stack: Stack) -> None:
    """Plain SMTP cannot recognise a repeat: a timeout after the request left is ambiguous."""
    settings = stack.settings
    async with httpx.AsyncClient() as http:
        server = SmtpServer(settings.simulator.smtp_host, settings.simulator.smtp_port)
        plain_smtp = SmtpEmail(server, 10.0)
        sms = SimulatorSms(http, settings.simulator.url, 10.0)
        activities = HandoverActivities(one_each(sms, plain_smtp))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(
                activities.hand_over, email_input("hang@example.no", 1.0)
            )

    assert failure.value.type == FailureKind.AMBIGUOUS
    assert failure.value.non_retryable


async def test_silence_from_a_deduplicating_gateway_is_asked_again_until_the_deadline(
    stack: Stack,
) -> None:
    """The simulator recognises a repeat: it is asked again with the same reference (one message,
    several submissions); at the deadline the message may still have been sent."""
    data = sms_input("+4799990013", 3.0)
    async with httpx.AsyncClient() as http:
        # Long enough that the connection is made on a busy machine: the silence is the answer's.
        quick = stack.settings.model_copy(update={"gateway_timeout_seconds": 1.0})
        activities = HandoverActivities(build_gateways(quick, http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.hand_over, data)

    assert failure.value.type == FailureKind.AMBIGUOUS
    assert failure.value.non_retryable
    [submitted] = await submissions(stack, data.reference)
    assert submitted >= 2


async def test_a_refusal_quoting_an_html_emails_text_keeps_no_code(stack: Stack) -> None:
    """The refusal is recorded and kept in Temporal. A code written digit by digit in the HTML
    has no code-like word there, but the plain part sent beside it has one."""
    html = "<p>Your code is <span>48</span><span>29</span><span>13</span></p>"
    order = replace(
        email_input("filtered@example.no"),
        email=EmailMessage(
            "filtered@example.no", "noreply@example.no", "Code", html, ContentType.HTML
        ),
    )
    fake = FakeSmtp()
    async with httpx.AsyncClient() as http, fake.running("none", None) as port:
        sms = SimulatorSms(http, stack.settings.simulator.url, 5.0)
        gateways = one_each(sms, SmtpEmail(SmtpServer("127.0.0.1", port), 5.0))
        refused = await ActivityEnvironment().run(HandoverActivities(gateways).hand_over, order)

    assert refused.status == "Email_Failed"
    assert refused.detail is not None
    assert refused.detail.startswith("550 5.7.1 Content rejected: ")
    assert "4829" not in refused.detail
    assert "48" not in refused.detail


@pytest.mark.parametrize("provider", ["smtp", "defective"])
async def test_a_providers_words_quoting_the_code_reach_neither_temporal_nor_the_log(
    stack: Stack, caplog: pytest.LogCaptureFixture, provider: str
) -> None:
    """An SMTP reply without a code that quotes the message, or a gateway's defect whose text
    quotes it: the handover ends "may have been sent", and the failure Temporal keeps (with
    every cause the SDK would add) and the log lines hold no word of the message."""
    code = "482913"
    async with contextlib.AsyncExitStack() as running:
        if provider == "smtp":
            port = await running.enter_async_context(FakeSmtp().running("none", None))
            http = await running.enter_async_context(httpx.AsyncClient())
            sms = SimulatorSms(http, stack.settings.simulator.url, 5.0)
            gateways = one_each(sms, SmtpEmail(SmtpServer("127.0.0.1", port), 5.0))
            body = EmailMessage(
                "garbled@example.no", "noreply@example.no", "Code", f"Your code is {code}"
            )
            order = replace(email_input(body.address), email=body)
        else:
            quoting = Defective(lambda m: ValueError(f"unreadable answer: {{'held': {m.body!r}}}"))
            gateways = sms_only(Route("quoting", quoting, CircuitBreaker("SMS", "quoting", 9, 1)))
            sms_body = SmsMessage("+4791112222", "Altinn", f"Your code is {code}")
            order = replace(sms_input(sms_body.phone_number), sms=sms_body)
        with caplog.at_level(logging.INFO), pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(HandoverActivities(gateways).hand_over, order)

    assert failed.value.type == FailureKind.AMBIGUOUS
    kept = Failure()
    DefaultFailureConverter().to_failure(
        failed.value, DataConverter.default.payload_converter, kept
    )
    assert code not in str(kept)
    assert code not in caplog.text
    assert caplog.records  # the handover was logged, without the words


async def test_each_attempt_is_timed_by_provider_and_outcome(stack: Stack) -> None:
    provider = f"metered-{uuid.uuid4().hex[:6]}"  # a label no other test's handover uses
    phones = {
        "accepted": "+4791112222",
        "invalid_recipient": "+4799990001",
        "unavailable": "+4799990009",
    }
    async with httpx.AsyncClient() as http:
        simulator = build_gateways(stack.settings, http)
        gateways = one_each(simulator.sms[0].gateway, simulator.email[0].gateway, provider)
        activities = HandoverActivities(gateways)
        for phone in phones.values():
            with contextlib.suppress(ApplicationError):
                await ActivityEnvironment().run(activities.hand_over, sms_input(phone))

    for outcome in phones:
        labels = {"provider": provider, "outcome": outcome}
        count = REGISTRY.get_sample_value("notifications_handover_duration_seconds_count", labels)
        assert count == 1, outcome


async def submissions(stack: Stack, reference: str) -> list[int]:
    found = await received(stack.simulator, reference=reference)
    return [message["submissions"] for message in found]


async def test_a_resumed_handover_to_a_gateway_without_deduplication_is_not_sent_again(
    stack: Stack,
) -> None:
    """A worker that stopped mid-handover leaves the row; its successor cannot know whether
    plain SMTP took the message, so it says so rather than send a second one."""
    settings = stack.settings
    data = with_row(email_input("to@example.no"), 5.0)
    async with httpx.AsyncClient() as http:
        server = SmtpServer(settings.simulator.smtp_host, settings.simulator.smtp_port)
        gateways = one_each(SimulatorSms(http, settings.simulator.url, 5.0), SmtpEmail(server, 5.0))
        activities = HandoverActivities(gateways, records=RecordActivities(stack.engine))
        first = await ActivityEnvironment().run(activities.hand_over, data)
        with pytest.raises(ApplicationError) as resumed:
            await ActivityEnvironment().run(activities.hand_over, data)

    assert first.status == "Email_Succeeded"
    assert resumed.value.type == FailureKind.AMBIGUOUS
    assert resumed.value.non_retryable
    assert await submissions(stack, data.reference) == [1]


async def test_a_resumed_handover_to_a_deduplicating_gateway_asks_it_before_the_deadline_only(
    stack: Stack,
) -> None:
    """Before the deadline the repeat settles what the gateway holds; past it, the stopped
    attempt may not have sent, and a repeat would be a first send after the caller's answer:
    it asks nobody. A fresh handover past the deadline writes its row and sends nothing."""
    data = with_row(sms_input("+4791112222"), 5.0)
    late = with_row(sms_input("+4791112222"), -1.0)
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(
            build_gateways(stack.settings, http), records=RecordActivities(stack.engine)
        )
        first = await ActivityEnvironment().run(activities.hand_over, data)
        resumed = await ActivityEnvironment().run(activities.hand_over, data)
        with pytest.raises(ApplicationError) as too_late:
            await ActivityEnvironment().run(
                activities.hand_over, replace(data, deadline=late.deadline)
            )
        with pytest.raises(ApplicationError) as fresh:
            await ActivityEnvironment().run(activities.hand_over, late)

    assert resumed.status == first.status == "SMS_Accepted"
    assert resumed.gateway_reference == first.gateway_reference
    assert too_late.value.type == FailureKind.AMBIGUOUS
    assert await submissions(stack, data.reference) == [2]
    assert fresh.value.type == FailureKind.DEADLINE_PASSED
    assert await submissions(stack, late.reference) == []


async def test_a_resumed_handover_asks_again_only_until_the_deadline(stack: Stack) -> None:
    """A repeat to a deduplicating gateway that hangs ends at the handover's deadline, not at
    the gateway's own timeout: past the deadline the API has answered, and a send that ends
    later is one after the caller's answer. (The bound only tells the deadline from the
    gateway's 60 s.)"""
    data = with_row(sms_input("+4799990013", 1.0), 1.0)  # the simulator keeps it silent
    async with httpx.AsyncClient() as http:
        patient = stack.settings.model_copy(update={"gateway_timeout_seconds": 60.0})
        activities = HandoverActivities(
            build_gateways(patient, http), records=RecordActivities(stack.engine)
        )
        with pytest.raises(ApplicationError) as first:
            await ActivityEnvironment().run(activities.hand_over, data)
        again = replace(data, deadline=datetime.now(UTC) + timedelta(seconds=1))
        started = time.monotonic()
        with pytest.raises(ApplicationError) as resumed:
            await ActivityEnvironment().run(activities.hand_over, again)
        took = time.monotonic() - started

    assert first.value.type == resumed.value.type == FailureKind.AMBIGUOUS
    assert took < 30
    [submitted] = await submissions(stack, data.reference)
    assert submitted >= 2


@pytest.mark.parametrize(
    ("gateway_timeout", "deadline", "state"),
    # 1 s: long enough that the connection is made on a busy machine; the silence is the answer.
    [(1.0, 3.0, CircuitState.OPEN), (60.0, 1.0, CircuitState.CLOSED)],
    ids=["silent-past-its-timeout", "cut-short-by-the-deadline"],
)
async def test_only_silence_within_the_gateways_own_timeout_counts_against_its_circuit(
    stack: Stack, gateway_timeout: float, deadline: float, state: CircuitState
) -> None:
    """A provider given its whole timeout without answering has failed; one the handover's
    deadline cut shorter (a late start) has not shown anything. Threshold 1."""
    async with httpx.AsyncClient() as http:
        simulator = SimulatorSms(http, stack.settings.simulator.url, gateway_timeout)
        route = Route("silent", simulator, CircuitBreaker("SMS", "silent", 1, 30))
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(
                HandoverActivities(sms_only(route)).hand_over, sms_input("+4799990013", deadline)
            )

    assert failed.value.type == FailureKind.AMBIGUOUS
    assert route.breaker.view().state is state


def two_sms_providers(http: httpx.AsyncClient, stack: Stack, tag: str) -> Gateways:
    """`down-…` refuses connections; `up-…` is the simulator. Names unique to the test, so the
    metrics tell which one was asked."""
    nobody = f"http://127.0.0.1:{free_port()}"
    up = SimulatorSms(http, stack.settings.simulator.url, 2.0)
    return sms_only(
        Route(f"down-{tag}", SimulatorSms(http, nobody, 2.0), CircuitBreaker("SMS", "d", 99, 30)),
        Route(f"up-{tag}", up, CircuitBreaker("SMS", "u", 99, 30)),
    )


def asked(provider: str) -> float:
    total = 0.0
    for outcome in ("accepted", "unavailable", "ambiguous", "invalid_recipient", "refused"):
        labels = {"provider": provider, "outcome": outcome}
        total += (
            REGISTRY.get_sample_value("notifications_handover_duration_seconds_count", labels) or 0
        )
    return total


def row_provider(stack: Stack, shipment_id: str) -> str | None:
    with Session(stack.engine) as session:
        row = session.get(Shipment, shipment_id)
        return row.provider if row is not None else None


async def test_failover_names_the_next_provider_on_the_row_before_asking_it(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    data = with_row(sms_input("+4791112222"), 5.0)
    async with httpx.AsyncClient() as http:
        records = RecordActivities(stack.engine)
        activities = HandoverActivities(two_sms_providers(http, stack, tag), records)
        result = await ActivityEnvironment().run(activities.hand_over, data)

    assert (result.status, result.provider) == ("SMS_Accepted", f"up-{tag}")
    assert (asked(f"down-{tag}"), asked(f"up-{tag}")) == (1, 1)
    assert data.shipment is not None
    assert row_provider(stack, data.shipment.shipment_id) == f"up-{tag}"


def left_behind(stack: Stack, provider: str) -> tuple[HandoverInput, RecordActivities]:
    """A handover whose earlier execution wrote the row, naming `provider`, and stopped."""
    data = with_row(sms_input("+4791112222"), 5.0)
    assert data.shipment is not None
    records = RecordActivities(stack.engine)
    records.record_shipment(replace(data.shipment, provider=provider), by=soon())
    return data, records


async def test_a_resumed_handover_asks_only_the_provider_its_row_names(stack: Stack) -> None:
    """The earlier execution failed over to the second provider and stopped: the first,
    though preferred and now perhaps up, may not be asked (the second may hold the message)."""
    tag = uuid.uuid4().hex[:6]
    data, records = left_behind(stack, f"up-{tag}")
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(two_sms_providers(http, stack, tag), records)
        resumed = await ActivityEnvironment().run(activities.hand_over, data)

    assert (resumed.status, resumed.provider) == ("SMS_Accepted", f"up-{tag}")
    assert asked(f"down-{tag}") == 0


def with_a_plain_provider(http: httpx.AsyncClient, stack: Stack, tag: str) -> Gateways:
    """`two_sms_providers`, then `twilio-…`, which would not recognise a repeat."""
    gateways = two_sms_providers(http, stack, tag)
    plain = Route(
        f"twilio-{tag}", NoRepeats(gateways.sms[1].gateway), CircuitBreaker("SMS", "t", 9, 1)
    )
    return sms_only(*gateways.sms, plain)


def at_attempt(attempt: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = replace(env.info, attempt=attempt)
    return env


@pytest.mark.parametrize("attempt", [1, 3], ids=["after-a-stop", "after-a-timeout"])
async def test_a_resumed_handover_whose_provider_cannot_recognise_a_repeat_asks_none(
    stack: Stack, attempt: int
) -> None:
    """Whichever attempt finds the row naming a provider: a later one follows an attempt cut
    off by its timeout after the provider took the message (while recording its answer, say)."""
    tag = uuid.uuid4().hex[:6]
    data, records = left_behind(stack, f"twilio-{tag}")
    async with httpx.AsyncClient() as http:
        gateways = with_a_plain_provider(http, stack, tag)
        activities = HandoverActivities(gateways, records)
        with pytest.raises(ApplicationError) as failure:
            await at_attempt(attempt).run(activities.hand_over, data)

    assert failure.value.type == FailureKind.AMBIGUOUS
    assert (asked(f"down-{tag}"), asked(f"up-{tag}"), asked(f"twilio-{tag}")) == (0, 0, 0)


async def test_a_resumed_handover_whose_earlier_attempt_recorded_the_answer_returns_it(
    stack: Stack,
) -> None:
    """The earlier attempt had the provider's refusal and recorded it, then was cut off: the
    answer is known, so the retry neither asks again nor calls it "may have been sent"."""
    tag = uuid.uuid4().hex[:6]
    data, records = left_behind(stack, f"twilio-{tag}")
    data = replace(data, record_as=1)
    assert data.shipment is not None
    refusal = TransitionInput(
        shipment_id=data.shipment.shipment_id,
        number=1,
        kind="handover",
        applied=True,
        at=datetime.now(UTC),
        status="SMS_Failed_InvalidRecipient",
        provider=f"twilio-{tag}",
        detail="21211 not a valid phone number",
        org=data.shipment.org,
    )
    records.record_transition(refusal)
    async with httpx.AsyncClient() as http:
        gateways = with_a_plain_provider(http, stack, tag)
        result = await at_attempt(2).run(HandoverActivities(gateways, records).hand_over, data)

    assert (result.status, result.provider, result.detail) == (
        "SMS_Failed_InvalidRecipient",
        f"twilio-{tag}",
        "21211 not a valid phone number",
    )
    assert result.recorded
    assert (asked(f"down-{tag}"), asked(f"up-{tag}"), asked(f"twilio-{tag}")) == (0, 0, 0)


async def test_an_attempt_no_provider_took_leaves_none_named_and_the_next_starts_afresh(
    stack: Stack,
) -> None:
    tag = uuid.uuid4().hex[:6]
    data = with_row(sms_input("+4791112222"), 5.0)
    assert data.shipment is not None
    async with httpx.AsyncClient() as http:
        records = RecordActivities(stack.engine)
        both = two_sms_providers(http, stack, tag)
        only_down = sms_only(both.sms[0])
        with pytest.raises(ApplicationError) as failure:
            await at_attempt(1).run(HandoverActivities(only_down, records).hand_over, data)
        unnamed = row_provider(stack, data.shipment.shipment_id)
        result = await at_attempt(2).run(HandoverActivities(both, records).hand_over, data)

    assert failure.value.type == FailureKind.NOT_TAKEN
    assert not failure.value.non_retryable
    assert unnamed is None
    assert (result.status, result.provider) == ("SMS_Accepted", f"up-{tag}")
    assert await submissions(stack, data.reference) == [1]


class NoRepeats:
    """A provider that would not recognise a repeat (as Twilio), in front of the simulator."""

    deduplicates = False

    def __init__(self, inner: SmsGateway) -> None:
        self._inner = inner

    async def send_sms(self, message: SmsSend) -> Receipt:
        return await self._inner.send_sms(message)


class Defective:
    """A gateway whose code fails after the request left (a 201 it cannot read, say), with
    the error `error` makes of the message."""

    deduplicates = False

    def __init__(self, error: Callable[[SmsSend], Exception] = lambda _: KeyError("messageId")):
        self._error = error

    async def send_sms(self, message: SmsSend) -> Receipt:
        raise self._error(message)


async def test_a_defect_after_the_request_left_is_never_followed_by_another_provider(
    stack: Stack,
) -> None:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient() as http:
        broken = Route(f"broken-{tag}", Defective(), CircuitBreaker("SMS", "b", 9, 1))
        gateways = sms_only(broken, two_sms_providers(http, stack, tag).sms[1])
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(
                HandoverActivities(gateways).hand_over, sms_input("+4791112222")
            )

    assert failure.value.type == FailureKind.AMBIGUOUS
    assert asked(f"up-{tag}") == 0


async def test_a_circuit_change_the_store_cannot_take_holds_no_handover(stack: Stack) -> None:
    """The first provider's failure opens its circuit, whose change goes to the store for
    readiness; another writer holds the store: the next provider is asked all the same,
    within the handover's deadline."""
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient() as http:
        down, up = two_sms_providers(http, stack, tag).sms
        opening = Route(down.name, down.gateway, CircuitBreaker("SMS", down.name, 1, 30))
        gateways = sms_only(opening, up)
        activities = HandoverActivities(gateways, records=RecordActivities(stack.engine))
        with table_locked(stack.engine, table="provider_circuit"):
            result = await ActivityEnvironment().run(
                activities.hand_over, sms_input("+4791112222", 3.0)
            )

    assert result.status == "SMS_Accepted"
    assert result.provider == f"up-{tag}"
    assert opening.breaker.view().state is CircuitState.OPEN


class ResumedElsewhere:
    """A provider that does not take the message; while this execution waits for its answer,
    another resumes the handover (this worker frozen past the workflow task's timeout)."""

    deduplicates = False

    def __init__(self, records: RecordActivities, shipment_id: str) -> None:
        self._records, self._shipment_id = records, shipment_id

    async def send_sms(self, message: SmsSend) -> Receipt:
        self._records.take_over(self._shipment_id, "another-execution", by=soon())
        raise GatewayUnavailable("connection refused")


async def test_an_execution_resumed_elsewhere_meanwhile_fails_over_to_no_one(
    stack: Stack,
) -> None:
    """The other execution holds the row and may have sent through the provider it names:
    failing over now would be a second message."""
    tag = uuid.uuid4().hex[:6]
    data = with_row(sms_input("+4791112222"), 5.0)
    assert data.shipment is not None
    records = RecordActivities(stack.engine)
    async with httpx.AsyncClient() as http:
        up = two_sms_providers(http, stack, tag).sms[1]
        first = ResumedElsewhere(records, data.shipment.shipment_id)
        gateways = sms_only(Route(f"first-{tag}", first, CircuitBreaker("SMS", "f", 99, 30)), up)
        with pytest.raises(ApplicationError) as fenced:
            await ActivityEnvironment().run(HandoverActivities(gateways, records).hand_over, data)

    assert fenced.value.type == FailureKind.AMBIGUOUS
    assert asked(f"up-{tag}") == 0
    assert row_provider(stack, data.shipment.shipment_id) == f"first-{tag}"


async def test_a_row_write_held_up_past_the_deadline_fails_and_never_lands_later(
    stack: Stack,
) -> None:
    """The thread of a write cut off by the attempt's timeout would go on and commit a row that
    names a provider no one asked: the next attempt would take it for a send that may have
    happened. The write gives up by the deadline, before any cut-off, instead."""
    data = with_row(sms_input("+4791112222"), 1.0)
    assert data.shipment is not None
    async with httpx.AsyncClient() as http:
        gateways = build_gateways(stack.settings, http)
        activities = HandoverActivities(gateways, RecordActivities(stack.engine))
        with table_locked(stack.engine, 3.0), pytest.raises(OperationalError) as held_up:
            await ActivityEnvironment().run(activities.hand_over, data)
        # A retry past the deadline asks no one, so it writes no row either.
        with pytest.raises(ApplicationError) as late:
            await ActivityEnvironment().run(activities.hand_over, data)

    assert store_away(held_up.value)
    assert late.value.type == FailureKind.DEADLINE_PASSED
    with Session(stack.engine) as session:
        assert session.get(Shipment, data.shipment.shipment_id) is None
    assert await submissions(stack, data.reference) == []


async def test_a_resume_past_the_deadline_still_holds_the_row(stack: Stack) -> None:
    """It asks no one, but takes the row over: an execution frozen after its own deadline
    check, and woken now, must find it held, or it would fail over to another provider."""
    data, records = left_behind(stack, "simulator")
    assert data.shipment is not None
    late = replace(data, deadline=datetime.now(UTC) - timedelta(seconds=1))
    async with httpx.AsyncClient() as http:
        activities = HandoverActivities(build_gateways(stack.settings, http), records)
        with pytest.raises(ApplicationError) as ended:
            await ActivityEnvironment().run(activities.hand_over, late)
    woken_names = records.assign_provider(data.shipment.shipment_id, "other", None, by=soon())

    assert ended.value.type == FailureKind.AMBIGUOUS
    assert not woken_names
    assert row_provider(stack, data.shipment.shipment_id) == "simulator"
    assert await submissions(stack, data.reference) == []
