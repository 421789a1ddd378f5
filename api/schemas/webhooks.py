"""Bodies of webhook subscriptions and their deliveries."""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from api.schemas.orders import ApiModel, RequestModel, SingleLine, TextBody, Unicode
from store.models import WebhookDelivery, WebhookSubscription
from webhooks.targets import MAX_URL_LENGTH

MAX_DESCRIPTION = 500


class SubscriptionIn(RequestModel):
    # No control characters: PostgreSQL refuses a NUL in text, and no URL or label needs one.
    url: Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_LENGTH), Unicode, SingleLine]
    description: (
        Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION), Unicode, TextBody] | None
    ) = None


class SubscriptionOut(ApiModel):
    id: str
    url: str
    description: str | None = None
    created_at: datetime
    # False once the receiver answered 410 Gone: nothing is delivered to it any more.
    active: bool

    @classmethod
    def of(cls, row: WebhookSubscription) -> "SubscriptionOut":
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            created_at=row.created_at,
            active=row.disabled_at is None,
        )


class SubscriptionWithSecret(SubscriptionOut):
    """Only the answers to creation and rotation carry the secret."""

    secret: str
    # After a rotation: until then, the secret before it signs too.
    previous_secret_expires_at: datetime | None = None

    @classmethod
    def with_secret(cls, row: WebhookSubscription) -> "SubscriptionWithSecret":
        return cls(
            **SubscriptionOut.of(row).model_dump(),
            secret=row.secret,
            previous_secret_expires_at=row.previous_expires_at,
        )


class DeliveryOut(ApiModel):
    """`id` is the `webhook-id` header of every attempt of this delivery."""

    id: str
    event_type: str
    shipment_id: str
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookDelivery) -> "DeliveryOut":
        return cls.model_validate(row, from_attributes=True)
