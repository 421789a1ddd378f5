"""Which provider serves each channel, chosen by settings: one line per provider."""

from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from core.config import Settings
from domain.sms import SmsCapacity
from gateways import acs, dsn, event_grid, linkmobility, simulator, twilio
from gateways.base import EmailGateway, ReportReader, SmsGateway
from gateways.smtp import SmtpEmail, SmtpServer

SmsFactory = Callable[[Settings, httpx.AsyncClient], SmsGateway]
EmailFactory = Callable[[Settings, httpx.AsyncClient], EmailGateway]
ReaderFactory = Callable[[Settings], ReportReader]


def _twilio_account(s: Settings) -> twilio.TwilioAccount:
    return twilio.TwilioAccount(
        s.twilio_account_sid, s.twilio_auth_token, s.twilio_messaging_service_sid
    )


SMS_PROVIDERS: dict[str, SmsFactory] = {
    "simulator": lambda s, http: simulator.SimulatorSms(
        http, s.simulator_url, s.gateway_timeout_seconds
    ),
    "linkmobility": lambda s, http: linkmobility.LinkMobilitySms(
        http,
        s.linkmobility_base_url,
        s.linkmobility_username,
        s.linkmobility_password,
        s.gateway_timeout_seconds,
    ),
    "twilio": lambda s, http: twilio.TwilioSms(
        http, s.twilio_base_url, _twilio_account(s), s.public_base_url, s.gateway_timeout_seconds
    ),
}

# What each SMS provider carries as given; the API refuses more (see domain.sms.SmsCapacity).
# The simulator stands in for Link Mobility, the provider Altinn uses, and keeps its limits.
SMS_CAPACITIES: dict[str, SmsCapacity] = {
    "simulator": replace(
        linkmobility.CAPACITY, provider="the simulator (with Link Mobility's limits)"
    ),
    "linkmobility": linkmobility.CAPACITY,
    "twilio": twilio.CAPACITY,
}

EMAIL_PROVIDERS: dict[str, EmailFactory] = {
    "simulator": lambda s, _http: SmtpEmail(
        SmtpServer(s.simulator_smtp_host, s.simulator_smtp_port),
        s.gateway_timeout_seconds,
        deduplicates=True,
    ),
    "smtp": lambda s, _http: SmtpEmail(
        SmtpServer(
            s.smtp_host, s.smtp_port, s.smtp_tls, s.smtp_username, s.smtp_password, s.smtp_ca_file
        ),
        s.gateway_timeout_seconds,
        # Only where the DSN route is set up: otherwise they would fill the sender's mailbox.
        request_dsn=bool(s.smtp_report_secret),
    ),
    "acs": lambda s, http: acs.AcsEmail(
        http, s.acs_endpoint, s.acs_access_key, s.acs_api_version, s.gateway_timeout_seconds
    ),
}

# Keyed by the `{provider}` segment of the report route.
REPORT_READERS: dict[str, ReaderFactory] = {
    simulator.PROVIDER: lambda s: simulator.SimulatorReports(
        s.delivery_report_secret, s.delivery_report_tolerance_seconds
    ),
    linkmobility.PROVIDER: lambda s: linkmobility.LinkMobilityReports(
        s.linkmobility_report_username, s.linkmobility_report_password
    ),
    twilio.PROVIDER: lambda s: twilio.TwilioReports(_twilio_account(s), s.public_base_url),
    dsn.PROVIDER: lambda s: dsn.DsnReports(s.smtp_report_secret),
    acs.PROVIDER: lambda s: event_grid.EventGridReports(s.acs_report_secret),
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
    """Every provider's reader is mounted, so reports still arrive after a provider switch;
    a provider without credentials rejects every report."""
    return {name: factory(settings) for name, factory in REPORT_READERS.items()}
