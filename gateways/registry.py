"""Which providers there are, each one line: its settings section, which builds its sender and
its report reader. Settings name, per channel, the providers to use, the first preferred."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import httpx
from pydantic import BaseModel, Field

from domain.orders import Channel
from domain.sms import SmsCapacity
from gateways.acs import AcsSettings
from gateways.base import (
    EmailGateway,
    EmailProvider,
    GatewayContext,
    KeepsConnections,
    ReportProvider,
    ReportReader,
    SmsGateway,
    SmsProvider,
)
from gateways.breaker import CircuitBreaker
from gateways.linkmobility import LinkMobilitySettings
from gateways.simulator import SecondSimulatorSettings, SimulatorSettings
from gateways.smtp import SmtpSettings
from gateways.twilio import TwilioSettings

if TYPE_CHECKING:
    from core.config import Settings


class ProviderSettings(BaseModel):
    """One settings section per provider, named as the provider and read from the environment
    under its own prefix (`TWILIO_…`). A new provider is one module and one line here."""

    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    simulator2: SecondSimulatorSettings = Field(default_factory=SecondSimulatorSettings)
    linkmobility: LinkMobilitySettings = Field(default_factory=LinkMobilitySettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    acs: AcsSettings = Field(default_factory=AcsSettings)

    def sections(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def sms_sections(self) -> dict[str, SmsProvider]:
        return {n: s for n, s in self.sections().items() if isinstance(s, SmsProvider)}

    def email_sections(self) -> dict[str, EmailProvider]:
        return {n: s for n, s in self.sections().items() if isinstance(s, EmailProvider)}

    def report_sections(self) -> dict[str, ReportProvider]:
        return {n: s for n, s in self.sections().items() if isinstance(s, ReportProvider)}


# The `{provider}` segments of the report route: every provider whose reports reach us.
REPORT_PROVIDERS = sorted(
    name
    for name, field in ProviderSettings.model_fields.items()
    if hasattr(field.annotation, "report_reader")
)

G = TypeVar("G", SmsGateway, EmailGateway)


@dataclass(frozen=True)
class Route(Generic[G]):
    """One provider of a channel, with this process's circuit breaker for it."""

    name: str
    gateway: G
    breaker: CircuitBreaker


@dataclass(frozen=True)
class Gateways:
    """Per channel, the providers in the order they are asked."""

    sms: Sequence[Route[SmsGateway]]
    email: Sequence[Route[EmailGateway]]

    async def aclose(self) -> None:
        """Close what the gateways keep open; once no handover runs."""
        gateways: list[object] = [route.gateway for route in self.sms]
        gateways += [route.gateway for route in self.email]
        for gateway in gateways:
            if isinstance(gateway, KeepsConnections):
                await gateway.aclose()


def gateway_context(
    settings: "Settings", name: str, http: httpx.AsyncClient | None
) -> GatewayContext:
    return GatewayContext(
        name=name,
        timeout_seconds=settings.gateway_timeout_seconds,
        public_base_url=settings.public_base_url,
        report_secret=settings.delivery_report_secret,
        report_tolerance_seconds=settings.delivery_report_tolerance_seconds,
        http=http,
        previous_public_base_urls=tuple(settings.previous_public_base_urls),
    )


def build_gateways(settings: "Settings", http: httpx.AsyncClient) -> Gateways:
    sms, email = settings.sms_sections(), settings.email_sections()

    def breaker(channel: Channel, name: str) -> CircuitBreaker:
        return CircuitBreaker(
            channel, name, settings.provider_failure_threshold, settings.provider_cooldown_seconds
        )

    def context(name: str) -> GatewayContext:
        return gateway_context(settings, name, http)

    return Gateways(
        sms=[
            Route(n, sms[n].sms_gateway(context(n)), breaker(Channel.SMS, n))
            for n in settings.sms_providers
        ],
        email=[
            Route(n, email[n].email_gateway(context(n)), breaker(Channel.EMAIL, n))
            for n in settings.email_providers
        ],
    )


def sms_capacities(settings: "Settings") -> list[SmsCapacity]:
    """What each SMS provider in use carries as given: an order may go through any of them, so
    the API refuses what one of them would not carry (see domain.sms.SmsCapacity)."""
    sections = settings.sms_sections()
    return [sections[name].capacity for name in settings.sms_providers]


def build_report_readers(settings: "Settings") -> dict[str, ReportReader]:
    """Every provider's reader is mounted, so reports still arrive after a provider switch;
    a provider without credentials rejects every report."""
    return {
        name: section.report_reader(gateway_context(settings, name, None))
        for name, section in settings.report_sections().items()
    }
