"""What the API checks of every email order before it is placed, settled by the settings once
at start: its sender address is at one of the domains the service sends from."""

from dataclasses import dataclass

from api.ordering import OrderContent
from api.problems import invalid
from api.schemas.orders import InstantEmailOrderIn
from core.config import Settings
from domain.recipients import mail_domain


@dataclass(frozen=True)
class EmailOrders:
    sender_domains: frozenset[str]  # empty: any
    default_sender: str

    @classmethod
    def of(cls, settings: Settings) -> "EmailOrders":
        return cls(frozenset(settings.email_sender_domains), settings.email_default_sender)

    def content(self, body: InstantEmailOrderIn) -> OrderContent:
        """The order to place; a 400 naming the sender where it is at a domain not ours."""
        email = body.recipient_email.message(self.default_sender)
        if self.sender_domains and mail_domain(email.sender_address) not in self.sender_domains:
            allowed = ", ".join(sorted(self.sender_domains))
            field = "recipientEmail.emailSettings.senderEmailAddress"
            raise invalid(
                {field: [f"Must be an address at a domain this service sends from: {allowed}."]}
            )
        return OrderContent(
            idempotency_id=body.idempotency_id,
            senders_reference=body.reference(),
            email=email,
        )
