"""Message bodies carry codes: they never reach logs, search attributes or memos."""

import logging
import uuid

import pytest

from domain.ids import workflow_id
from tests.conftest import Stack, Tenant
from tests.helpers import EMAIL, SMS, completed_manifest, email_order, sms_order


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_body_is_in_no_log_search_attribute_or_memo(
    stack: Stack, tenant: Tenant, caplog: pytest.LogCaptureFixture, channel: str
) -> None:
    secret = f"code-{uuid.uuid4().hex}"
    order = sms_order(body=secret) if channel == "sms" else email_order(body=secret)
    route = SMS if channel == "sms" else EMAIL
    caplog.set_level(logging.DEBUG)

    response = await stack.api.post(route, json=order, headers=tenant.headers)
    await completed_manifest(
        stack.api, tenant.headers, response.json()["notification"]["shipmentId"]
    )

    assert response.status_code == 201
    assert secret not in caplog.text
    handle = stack.client.get_workflow_handle(workflow_id(tenant.org, order["idempotencyId"]))
    description = await handle.describe()
    attributes = " ".join(str(v) for v in description.search_attributes.values())
    assert secret not in attributes
    assert secret not in str(await description.memo())
