"""An email through a real Postfix, end to end: the order is handed over (201), Postfix delivers
it and mails its success DSN to the sender's mailbox, and that DSN, relayed to our report route
as a mailbox's inbound hook would, makes the shipment Email_Delivered."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import Message

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.token import mint_token
from store.engine import create_db_engine
from store.migrate import migrate_database
from tests.conftest import api_and_worker, stack_settings
from tests.gateways.postfix import RECIPIENTS, SENDERS, Postfix, running_postfix
from tests.helpers import EMAIL, REPORTS, SHIPMENT, completed_manifest, email_order, eventually


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
        settings = stack_settings(
            tmp_path_factory.mktemp("postfix"),
            temporal_env.client.service_client.config.target_host,
            email_providers=["smtp"],
            smtp_host="127.0.0.1",
            smtp_port=postfix.port,
            smtp_tls="none",
            smtp_report_secret="dsn-secret",
            email_default_sender=f"noreply@{SENDERS}",
        )
        migrate_database(settings.database_url)
        engine = create_db_engine(settings.database_url)
        token = mint_token(
            settings.auth_jwt_secret, f"pf{uuid.uuid4().hex[:8]}", settings.auth_scope
        )
        async with api_and_worker(temporal_env.client, settings, engine) as api:
            yield PostfixStack(api, postfix, {"Authorization": f"Bearer {token}"})
        engine.dispose()


async def test_postfix_success_dsn_makes_the_shipment_delivered(
    through_postfix: PostfixStack,
) -> None:
    stack = through_postfix
    response = await stack.api.post(
        EMAIL, json=email_order(f"kari@{RECIPIENTS}"), headers=stack.headers
    )
    assert response.status_code == 201, response.text
    shipment_id = response.json()["notification"]["shipmentId"]
    accepted = await stack.api.get(f"{SHIPMENT}/{shipment_id}", headers=stack.headers)
    assert accepted.json()["recipients"][0]["status"] == "Email_Succeeded"

    async def notification() -> Message | None:
        found = stack.postfix.mailbox(SENDERS)
        return found[-1] if found else None

    dsn = await eventually(notification, within=10)
    relayed = await stack.api.post(
        f"{REPORTS}/smtp?code=dsn-secret",
        content=dsn.as_bytes(),
        headers={"Content-Type": "message/rfc822"},
    )

    assert relayed.status_code == 200, relayed.text
    manifest = await completed_manifest(stack.api, stack.headers, shipment_id)
    assert manifest["recipients"][0]["status"] == "Email_Delivered"
