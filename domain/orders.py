"""What one instant order asks for, and what the workflow answers about its handover."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.webhooks import ATTEMPT_SECONDS

# The longest time-to-live an SMS order may ask for (Altinn's bound: 48 hours).
MAX_SMS_TTL_SECONDS = 172_800


class Channel(StrEnum):
    SMS = "SMS"
    EMAIL = "Email"


class ContentType(StrEnum):
    PLAIN = "Plain"
    HTML = "Html"


@dataclass(frozen=True)
class SmsMessage:
    phone_number: str
    sender: str
    body: str


@dataclass(frozen=True)
class EmailMessage:
    address: str
    sender_address: str
    subject: str
    body: str
    content_type: ContentType = ContentType.PLAIN


@dataclass(frozen=True)
class Timing:
    """Deadlines the workflow applies; decided by the API's settings so the workflow stays pure."""

    ttl_seconds: int
    grace_seconds: int
    handover_seconds: float
    attempt_seconds: float
    # When the API stops waiting for the handover. The workflow's first task may start later
    # than the request (a worker busy or reconnecting), so its own clock would let a send go
    # out after the caller was told 503. Inputs from before this field count from `created`.
    answer_by: datetime | None = None
    # Bounds the first attempt of each webhook delivery, which the workflow waits for.
    webhook_attempt_seconds: float = ATTEMPT_SECONDS
    # How long the waits between a local activity's retries in the workflow's tasks (the
    # handover past its own window, a record) add up to before a regular activity takes over;
    # attempts that hang add their timeouts. Each retry's task heartbeat adds events, and a
    # store down for hours would grow the history until Temporal ends the order.
    local_retry_seconds: float = 60.0
    # When the caller asked, by the API's clock: the TTL counts from it, not from the first
    # task, which runs late when that task was lost (its worker stopped). Inputs from before
    # this field count from the first task.
    requested_at: datetime | None = None

    def handover_deadline(self, created: datetime) -> datetime:
        return self.answer_by or created + timedelta(seconds=self.handover_seconds)


@dataclass(frozen=True)
class NotificationInput:
    """The workflow input: one message to one recipient for one tenant."""

    org: str
    idempotency_id: str
    request_id: str
    fingerprint: str
    timing: Timing
    senders_reference: str | None = None
    sms: SmsMessage | None = None
    email: EmailMessage | None = None
    # Given by the API, so that the start can carry the shipment's search attributes; inputs
    # without them (from before) have the workflow make its own.
    order_id: str | None = None
    shipment_id: str | None = None

    @property
    def channel(self) -> Channel:
        return Channel.SMS if self.sms is not None else Channel.EMAIL

    @property
    def destination(self) -> str:
        if self.sms is not None:
            return self.sms.phone_number
        assert self.email is not None
        return self.email.address


@dataclass(frozen=True)
class HandoverRequest:
    """The update sent with every HTTP request: its id tells the first caller from a repeat.

    `answer_in_rejection`: the caller reads a repeat's answer from the update's rejection
    (REPEAT_ANSWERED), which leaves nothing in the workflow's history. Callers from before this
    field cannot, and get an accepted update."""

    request_id: str
    answer_in_rejection: bool = False


# The type of the rejection that answers a repeat of a decided handover; its one detail is the
# HandoverAnswer.
REPEAT_ANSWERED = "RepeatAnswered"


@dataclass(frozen=True)
class HandoverAnswer:
    created: bool
    notification_order_id: str
    shipment_id: str
    fingerprint: str
    senders_reference: str | None = None


@dataclass(frozen=True)
class NotificationResult:
    shipment_id: str
    status: str
