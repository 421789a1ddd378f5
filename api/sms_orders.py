"""What the API checks of every SMS order before it is placed, settled by the settings once at
start: every provider it may go through carries it as given, and its number is not one SMS
pumping uses."""

from dataclasses import dataclass

from api.ordering import OrderContent
from api.problems import invalid
from api.pumping import check_recipient
from api.schemas.orders import OrderIn, RecipientSmsIn
from core.config import Settings
from domain.sms import SmsCapacity
from gateways.registry import sms_capacities


@dataclass(frozen=True)
class SmsOrders:
    capacities: list[SmsCapacity]
    allowed_countries: list[str]
    default_sender: str

    @classmethod
    def of(cls, settings: Settings) -> "SmsOrders":
        return cls(
            sms_capacities(settings), settings.sms_allowed_countries, settings.sms_default_sender
        )

    def content(self, body: OrderIn, recipient: RecipientSmsIn, path: str) -> OrderContent:
        """The order to place; a 400 naming the field under `path` where it cannot go."""
        for capacity in self.capacities:
            errors = recipient.capacity_errors(capacity, path)
            if errors:
                raise invalid(errors)
        check_recipient(recipient.phone_number, self.allowed_countries, f"{path}.phoneNumber")
        return OrderContent(
            idempotency_id=body.idempotency_id,
            senders_reference=body.reference(),
            sms=recipient.message(self.default_sender),
            ttl_seconds=recipient.time_to_live_in_seconds,
        )
