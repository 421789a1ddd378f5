"""The SMTP provider against a real Postfix (DSN advertised, no STARTTLS, no AUTH), end to end:
the order is handed over (201), Postfix delivers it, dated, and mails its success DSN to the
sender's mailbox, and that DSN, relayed to our report route as a mailbox's inbound hook would,
makes the shipment Email_Delivered."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.connection import plain_connection
from devstack.scratch import scratch_settings
from devstack.token import auth_headers
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.support.answers import recipient_status, shipment_id
from tests.support.bodies import email_order, new_org
from tests.support.inprocess import api_and_worker
from tests.support.polling import eventually, final_status
from tests.support.postfix import RECIPIENTS, SENDERS, Postfix, running_postfix
from tests.support.reports import relay_dsn
from tests.support.routes import EMAIL, SHIPMENT
from tests.support.stack import SHORT_TIMINGS


@dataclass
class PostfixStack:
    api: httpx.AsyncClient
    postfix: Postfix
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def through_postfix(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PostfixStack]:
    async with running_postfix() as postfix:
        settings = scratch_settings(
            tmp_path_factory.mktemp("postfix"),
            temporal_address=temporal_env.client.service_client.config.target_host,
            **SHORT_TIMINGS,
            email_providers=["smtp"],
            smtp_host="127.0.0.1",
            smtp_port=postfix.port,
            smtp_tls="none",
            smtp_report_secret="dsn-secret",
            email_default_sender=f"noreply@{SENDERS}",
        )
        migrate_database(settings.database_url)
        engine = create_db_engine(settings.database_url)
        connection = plain_connection(temporal_env.client.service_client.config.target_host)
        async with api_and_worker(settings, engine, connection) as api:
            yield PostfixStack(api, postfix, auth_headers(settings, new_org()))
        engine.dispose()


async def test_postfix_success_dsn_makes_the_shipment_delivered(
    through_postfix: PostfixStack,
) -> None:
    stack = through_postfix
    # Its own address: the other tests of this module mail the same Postfix, in any order.
    address = f"kari-{uuid.uuid4().hex[:8]}@{RECIPIENTS}"
    response = await stack.api.post(EMAIL, json=email_order(address), headers=stack.headers)
    assert response.status_code == 201, response.text
    shipment = shipment_id(response)
    accepted = await stack.api.get(f"{SHIPMENT}/{shipment}", headers=stack.headers)
    assert recipient_status(accepted.json()) == "Email_Succeeded"

    async def notification() -> Message | None:
        about = [m for m in stack.postfix.mailbox(SENDERS) if address in m.as_string()]
        return about[0] if about else None

    dsn = await eventually(notification, within=10)
    [delivered] = [m for m in stack.postfix.mailbox(RECIPIENTS) if address in str(m["To"])]
    date = delivered["Date"]
    assert date is not None
    assert abs(parsedate_to_datetime(date) - datetime.now(UTC)) < timedelta(minutes=1)
    relayed = await relay_dsn(stack.api, dsn.as_bytes())

    assert relayed.status_code == 200, relayed.text
    assert await final_status(stack.api, stack.headers, shipment) == "Email_Delivered"


async def test_a_domain_postfix_does_not_take_is_a_final_refusal(
    through_postfix: PostfixStack,
) -> None:
    stack = through_postfix
    response = await stack.api.post(
        EMAIL, json=email_order("kari@elsewhere.test"), headers=stack.headers
    )

    assert response.status_code == 201, response.text
    shipment = shipment_id(response)
    assert await final_status(stack.api, stack.headers, shipment) == "Email_Failed"


async def test_an_html_email_is_delivered_with_its_plain_text_alternative(
    through_postfix: PostfixStack,
) -> None:
    stack = through_postfix
    address = f"html-{uuid.uuid4().hex[:8]}@{RECIPIENTS}"
    html = "<h1>Login</h1><p>Your code is <b>123456</b>.</p>"
    order = email_order(address, body=html)
    order["recipientEmail"]["emailSettings"]["contentType"] = "Html"

    response = await stack.api.post(EMAIL, json=order, headers=stack.headers)

    assert response.status_code == 201, response.text

    async def delivered() -> Message | None:
        mine = [m for m in stack.postfix.mailbox(RECIPIENTS) if address in str(m["To"])]
        return mine[0] if mine else None

    found = await eventually(delivered, within=10)
    mail = message_from_bytes(found.as_bytes(), policy=default_policy)
    shipment = shipment_id(response).replace("-", "")[-16:]
    assert f".{shipment}@" in str(mail["Message-ID"])  # the order's own, which no one knew before
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content().splitlines() == ["Login", "", "Your code is 123456."]
    assert rich.get_content().splitlines() == [html]


async def test_orders_one_after_another_go_to_postfix_on_one_connection(
    through_postfix: PostfixStack,
) -> None:
    """The second order's handover uses the connection the first one left open (a connection
    kept from an earlier test may carry both), with its commands pipelined."""
    stack = through_postfix
    connects = stack.postfix.log().count("]: connect from")
    shipments = []
    for _ in range(2):
        response = await stack.api.post(
            EMAIL, json=email_order(f"kari@{RECIPIENTS}"), headers=stack.headers
        )
        assert response.status_code == 201, response.text
        shipments.append(shipment_id(response).replace("-", "")[-16:])

    async def both_queued() -> bool:
        log = stack.postfix.log()
        return all(f".{shipment}@" in log for shipment in shipments)

    await eventually(both_queued, within=10)
    assert stack.postfix.log().count("]: connect from") - connects <= 1
    # MAIL, RCPT and DATA went together, as Postfix offers; the message only after its 354.
    assert "improper command pipelining" not in stack.postfix.log()
