"""Our Prometheus metrics, shared by the API and the worker, and the calls that record them.

Names carry their unit (`_seconds`, `_total`); labels take values from small fixed sets only
(route templates, provider names, outcomes, statuses), never ids or addresses.
"""

from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

# Handovers are bounded by the handover deadline (10 s by default); reports may lag minutes.
_HANDOVER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
_WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class ReportOutcome(StrEnum):
    SIGNALLED = "signalled"  # handed to the shipment's running workflow
    HELD = "held"  # it outran the record of its handover: kept for the workflow to take
    LATE = "late"  # the workflow had completed: kept in the shipment's history
    SURPLUS = "surplus"  # decides nothing, past the workflow's fill: kept in the history
    DEAD = "dead"  # unreadable or for an unknown reference: kept as a dead report
    DUPLICATE = "duplicate"  # a delivery seen before, ignored
    REJECTED = "rejected"  # not authentic (401)


HTTP_REQUEST_SECONDS = Histogram(
    "notifications_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status_code"],
)
DELIVERY_REPORTS = Counter(
    "notifications_delivery_reports_total",
    "Delivery reports received, by provider and what became of them.",
    ["provider", "outcome"],
)
RATE_LIMITED = Counter(
    "notifications_rate_limited_total",
    "Orders refused by a rate limit (429), by the limit's scope.",
    ["scope"],
)
HANDOVER_SECONDS = Histogram(
    "notifications_handover_duration_seconds",
    "Time of one handover attempt at a gateway, by provider and outcome.",
    ["provider", "outcome"],
    buckets=_HANDOVER_BUCKETS,
)
FINAL_STATUSES = Counter(
    "notifications_final_statuses_total",
    "Shipments that reached a final status, by channel and status.",
    ["channel", "status"],
)
REPORT_LAG_SECONDS = Histogram(
    "notifications_delivery_report_lag_seconds",
    "Time from the API's receipt of a delivery report to its record by the workflow.",
    ["provider"],
    buckets=_LAG_BUCKETS,
)

SMTP_CONNECTIONS = Counter(
    "notifications_smtp_connections_total",
    "SMTP connections a handover used, by provider and how: opened, kept (one kept open from a "
    "message before), replaced (a kept one that failed before the message went out).",
    ["provider", "how"],
)

CIRCUIT_OPEN = Gauge(
    "notifications_provider_circuit_open",
    "1 while this worker skips a provider of a channel (its circuit is open or probing), else 0.",
    ["channel", "provider"],
)
CIRCUITS_OPENED = Counter(
    "notifications_provider_circuit_opened_total",
    "Times this worker opened a provider's circuit (a run of not-taken failures, or a failed "
    "probe).",
    ["channel", "provider"],
)
SMS_RECIPIENTS_REFUSED = Counter(
    "notifications_sms_recipients_refused_total",
    "SMS orders refused (400) for a recipient number of a country or a type that is not "
    "allowed, by reason.",
    ["reason"],
)
WEBHOOK_DELIVERIES = Counter(
    "notifications_webhook_deliveries_total",
    "Webhook delivery attempts and outcomes: delivered, retried (no 2xx), gone (410), "
    "forbidden_target, failed (retries over).",
    ["outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "notifications_webhook_attempt_duration_seconds",
    "Time of one webhook delivery attempt, until the receiver answered or the attempt failed.",
    buckets=_WEBHOOK_BUCKETS,
)
WEBHOOK_LAG_SECONDS = Histogram(
    "notifications_webhook_delivery_lag_seconds",
    "Time from an event's deliveries being created to the receiver's 2xx, retries included.",
    buckets=_LAG_BUCKETS,
)
WAITING_READS = Gauge(
    "notifications_waiting_reads",
    "Shipment reads (waitSeconds) waiting for a final status in this process.",
)
WEBHOOK_FAILING_SUBSCRIPTIONS = Gauge(
    "notifications_webhook_failing_subscriptions",
    "Active webhook subscriptions with a delivery that failed or whose last attempt failed "
    "(the API counts them in the store at each scrape).",
)


def observe_request(method: str, route: str, status_code: int, seconds: float) -> None:
    HTTP_REQUEST_SECONDS.labels(method, route, str(status_code)).observe(seconds)


def count_report(provider: str, outcome: ReportOutcome) -> None:
    DELIVERY_REPORTS.labels(provider, outcome.value).inc()


def count_rate_limited(scope: str) -> None:
    """Call once per refused request; `scope` names the limit (e.g. recipient, tenant)."""
    RATE_LIMITED.labels(scope).inc()


def observe_handover(provider: str, outcome: str, seconds: float) -> None:
    HANDOVER_SECONDS.labels(provider, outcome).observe(seconds)


def count_smtp_connection(provider: str, how: str) -> None:
    SMTP_CONNECTIONS.labels(provider, how).inc()


def count_final_status(status: str) -> None:
    # Statuses carry their channel as a prefix: SMS_… and Email_….
    FINAL_STATUSES.labels(status.split("_", 1)[0], status).inc()


def observe_report_lag(provider: str, seconds: float) -> None:
    REPORT_LAG_SECONDS.labels(provider).observe(max(seconds, 0.0))


def set_circuit(channel: str, provider: str, is_open: bool) -> None:
    CIRCUIT_OPEN.labels(channel, provider).set(1 if is_open else 0)
    if is_open:
        CIRCUITS_OPENED.labels(channel, provider).inc()


def count_refused_recipient(reason: str) -> None:
    SMS_RECIPIENTS_REFUSED.labels(reason).inc()


def count_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def observe_webhook_attempt(seconds: float) -> None:
    WEBHOOK_ATTEMPT_SECONDS.observe(seconds)


def observe_webhook_lag(seconds: float) -> None:
    WEBHOOK_LAG_SECONDS.observe(max(seconds, 0.0))


def set_failing_webhook_subscriptions(count: int) -> None:
    WEBHOOK_FAILING_SUBSCRIPTIONS.set(count)
