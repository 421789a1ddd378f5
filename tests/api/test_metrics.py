"""The API's /metrics: request latency by route template, and what became of delivery reports."""

from tests.support.answers import shipment_id
from tests.support.bodies import new_key, reference_of, sms_order
from tests.support.metrics import metric
from tests.support.polling import completed_manifest
from tests.support.reports import signed_report, sms_report
from tests.support.routes import BASE, FEED, SHIPMENT, SIMULATOR_REPORTS, SMS
from tests.support.stack import Stack, Tenant

LATENCY = "notifications_http_request_duration_seconds_count"
REPORTS_TOTAL = "notifications_delivery_reports_total"


async def scrape(stack: Stack) -> str:
    response = await stack.api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_timed_by_route_template_never_by_raw_path(
    stack: Stack, tenant: Tenant
) -> None:
    shipment_route = f"{BASE}/future/shipment/{{shipment_id}}"
    before = await scrape(stack)
    placed = await stack.api.post(SMS, json=sms_order(), headers=tenant.headers)
    shipment = shipment_id(placed)
    await stack.api.get(f"{SHIPMENT}/{shipment}", headers=tenant.headers)
    await stack.api.get(f"{SHIPMENT}/{new_key()}", headers=tenant.headers)
    await stack.api.get(FEED, params={"pagesize": 3}, headers=tenant.headers)
    await stack.api.get(f"/no/such/{shipment}")
    after = await scrape(stack)

    def grew(method: str, route: str, status: str) -> float:
        labels = {"method": method, "route": route, "status_code": status}
        return metric(after, LATENCY, **labels) - metric(before, LATENCY, **labels)

    assert grew("POST", SMS, "201") == 1
    assert grew("GET", shipment_route, "200") == 1
    assert grew("GET", shipment_route, "404") == 1
    assert grew("GET", "unmatched", "404") == 1
    assert grew("GET", FEED, "200") == 1  # its query string rewritten (api/query_names.py)
    assert shipment not in after


async def test_delivery_reports_are_counted_by_outcome(stack: Stack, tenant: Tenant) -> None:
    secret = stack.settings.delivery_report_secret
    key = new_key()
    # The simulator never reports on this recipient: every report below is ours.
    placed = await stack.api.post(
        SMS, json=sms_order("+4799990008", key=key, ttl=600), headers=tenant.headers
    )
    payload = sms_report(reference_of(tenant.org, key), "DELIVRD")
    delivered, headers = signed_report(secret, payload)
    before = await scrape(stack)

    await stack.api.post(SIMULATOR_REPORTS, content=delivered, headers=headers)
    await stack.api.post(SIMULATOR_REPORTS, content=delivered, headers=headers)
    await completed_manifest(stack.api, tenant.headers, shipment_id(placed))
    await stack.workflow(tenant.org, key).result()
    late, late_headers = signed_report(secret, payload)
    await stack.api.post(SIMULATOR_REPORTS, content=late, headers=late_headers)
    unknown, unknown_headers = signed_report(secret, {**payload, "reference": new_key()})
    await stack.api.post(SIMULATOR_REPORTS, content=unknown, headers=unknown_headers)
    unsigned = {"content-type": "application/json"}
    await stack.api.post(SIMULATOR_REPORTS, content=delivered, headers=unsigned)
    after = await scrape(stack)

    def grew(outcome: str) -> float:
        labels = {"provider": "simulator", "outcome": outcome}
        return metric(after, REPORTS_TOTAL, **labels) - metric(before, REPORTS_TOTAL, **labels)

    # Reports of earlier tests' shipments may still be arriving: those count as signalled, or
    # as duplicates where the simulator sent one again after an answer it did not get in time.
    assert grew("signalled") >= 1
    assert grew("duplicate") >= 1
    assert (grew("late"), grew("dead"), grew("rejected")) == (1, 1, 1)
