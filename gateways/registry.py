"""Which provider serves each channel, chosen by settings: one line per provider."""

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from core.config import Settings
from gateways import simulator
from gateways.base import EmailGateway, ReportReader, SmsGateway
from gateways.smtp import SmtpEmail

SmsFactory = Callable[[Settings, httpx.AsyncClient], SmsGateway]
EmailFactory = Callable[[Settings, httpx.AsyncClient], EmailGateway]

SMS_PROVIDERS: dict[str, SmsFactory] = {
    "simulator": lambda s, http: simulator.SimulatorSms(
        http, s.simulator_url, s.gateway_timeout_seconds
    ),
}

EMAIL_PROVIDERS: dict[str, EmailFactory] = {
    "simulator": lambda s, _http: SmtpEmail(
        s.simulator_smtp_host, s.simulator_smtp_port, s.gateway_timeout_seconds, deduplicates=True
    ),
}


@dataclass(frozen=True)
class Gateways:
    sms: SmsGateway
    email: EmailGateway


def build_gateways(settings: Settings, http: httpx.AsyncClient) -> Gateways:
    return Gateways(
        sms=SMS_PROVIDERS[settings.sms_provider](settings, http),
        email=EMAIL_PROVIDERS[settings.email_provider](settings, http),
    )


def build_report_readers(settings: Settings) -> dict[str, ReportReader]:
    """Every provider's reader is mounted, so reports still arrive after a provider switch."""
    return {
        simulator.PROVIDER: simulator.SimulatorReports(
            settings.delivery_report_secret, settings.delivery_report_tolerance_seconds
        ),
    }
