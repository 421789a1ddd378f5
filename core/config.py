"""All settings of the service, read once from the environment (and an optional `.env`)."""

import base64
import binascii
import contextlib
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.codec import parse_keyring
from domain.deadlines import SHUTDOWN_SPARE_SECONDS, HandoverBudget
from domain.orders import MAX_SMS_TTL_SECONDS
from domain.recipients import is_mail_domain, mail_domain
from domain.webhooks import ATTEMPT_SECONDS, webhook_task_queue
from gateways import standard_webhooks
from gateways.base import NeedsSetup
from gateways.registry import ProviderSettings

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_REPORT_SECRET = "whsec_ZGV2LW9ubHktZGVsaXZlcnktcmVwb3J0LXNlY3JldA=="
_MIN_SECRET_LENGTH = 32
# Every value of deploy/example.env says this, itself or in its base64 part: published, so
# refused outside development, as the development secrets are.
_PLACEHOLDER = b"change-me"
_DAY_SECONDS = 86_400
# Past an order's TTL and grace, its workflow still finishes (a webhook's first attempts).
_RETENTION_MARGIN_SECONDS = 3600


# A comma-separated list in the environment (`a,b`), not JSON.
NameList = Annotated[list[str], NoDecode]


def _names(value: Any) -> Any:
    return [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else value


class Settings(ProviderSettings, BaseSettings):
    """The service's settings, and each provider's own section (`twilio`, read from
    `TWILIO_…`; see gateways/registry.py)."""

    # A refused value may be a secret: errors name the setting, never repeat its value.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    # JSON lines for log shippers in production; plain text for a developer's terminal.
    log_format: Literal["text", "json"] = Field(
        default_factory=lambda data: "json" if data["environment"] == "production" else "text"
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    # Base URLs this deployment had before: a provider that signs its callback over the URL we
    # gave it (Twilio) still reaches and signs for them, for messages sent before the change.
    previous_public_base_urls: NameList = []
    # The largest valid order, an email body of 60 000 characters each sent as JSON's
    # `\uXXXX` pair, is 720 000 bytes; Event Grid batches delivery reports up to 1 MB.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    # The connection (address, namespace, TLS, API key) is not here: core/connection.py reads
    # it with the SDK's environment configuration, the names the `temporal` CLI reads.
    temporal_task_queue: str = Field(default="instant-notifications", min_length=1)
    temporal_ui_port: int = 8233
    temporal_db_file: str = ".data/temporal.sqlite"

    database_url: str = "sqlite:///.data/notifications.sqlite"

    auth_jwt_secret: str = DEV_JWT_SECRET
    auth_scope: str = "altinn:serviceowner/notifications.create"
    # Production tokens (RS256/ES256): the identity provider's key set, issuer and audience.
    auth_jwks_url: str = ""
    auth_issuer: str = ""
    auth_audience: str = ""
    auth_leeway_seconds: int = Field(default=60, ge=0, le=300)
    auth_jwks_cache_seconds: int = Field(default=300, ge=10)
    # A token's `exp` at most this far ahead: a leaked token stops working within it.
    auth_max_token_lifetime_seconds: int = Field(default=24 * 3600, ge=60)

    idempotency_mismatch: Literal["ignore", "reject"] = "ignore"

    # The handover's time budget (domain/deadlines.py derives every other timeout from these).
    handover_deadline_seconds: float = Field(default=10.0, gt=1.0)
    gateway_timeout_seconds: float = Field(default=4.0, gt=0.0)
    # How soon another worker takes over an order whose worker stopped; well below the
    # deadline so that the caller still gets its answer. The SDK keeps a longer handover alive.
    workflow_task_timeout_seconds: float = Field(default=3.0, gt=0.0)
    email_ttl_seconds: int = Field(default=172800, ge=60)
    # Completed shipments and report bookkeeping older than this are removed (0: kept forever).
    retention_days: int = Field(default=90, ge=0)
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)
    ttl_grace_seconds: int = Field(default=60, ge=0)

    # Against SMS pumping: orders per (tenant, recipient), and per tenant, in sliding windows.
    recipient_limit: int = Field(default=5, ge=1)
    recipient_window_seconds: int = Field(default=600, ge=1)
    tenant_limit: int = Field(default=3000, ge=1)
    tenant_window_seconds: int = Field(default=60, ge=1)

    # Against SMS pumping: countries a number may belong to (ISO 3166 alpha-2; empty: all).
    sms_allowed_countries: NameList = []

    delivery_report_secret: str = DEV_REPORT_SECRET
    # How old a signed report may be; a report from the future by as much is refused too.
    delivery_report_tolerance_seconds: int = Field(default=300, ge=1)

    # The providers of each channel, in the order they are asked (the first is preferred).
    # SMS_PROVIDER / EMAIL_PROVIDER, the older names, are read as a list of one.
    sms_providers: NameList = Field(
        default=["simulator", "simulator2"],
        validation_alias=AliasChoices("sms_providers", "sms_provider"),
    )
    email_providers: NameList = Field(
        default=["simulator", "simulator2"],
        validation_alias=AliasChoices("email_providers", "email_provider"),
    )
    # A provider that did not take this many messages in a row is skipped for the cooldown,
    # then one handover probes it (per worker process).
    provider_failure_threshold: int = Field(default=5, ge=1)
    provider_cooldown_seconds: float = Field(default=30.0, gt=0.0)
    sms_default_sender: str = "Altinn"
    email_default_sender: str = "noreply@altinn.cloud"
    # The domains an order's senderEmailAddress may be at (empty: any, as Altinn): those the
    # email providers are set up to send from. Others would be refused by the provider after
    # the order was taken, or sent as someone else's mail.
    email_sender_domains: NameList = []

    # The standard OpenTelemetry variable: traces are exported by OTLP/HTTP only when it is set.
    otel_exporter_otlp_endpoint: str = ""
    # The worker serves two Prometheus endpoints: ours and the Temporal SDK's (0 turns one off).
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_sdk_metrics_port: int = Field(default=9465, ge=0, le=65535)
    # After SIGTERM, how long work in flight may finish: longer than the longest handover.
    worker_shutdown_grace_seconds: float = Field(
        default_factory=lambda data: data["handover_deadline_seconds"] + SHUTDOWN_SPARE_SECONDS,
        ge=0.0,
    )
    api_shutdown_grace_seconds: int = Field(
        default_factory=lambda data: int(
            data["handover_deadline_seconds"] + SHUTDOWN_SPARE_SECONDS
        ),
        ge=0,
    )
    # How long the API keeps a caller's idle connection open. Above the idle timeouts of load
    # balancers (60 s is common) and callers' pools: a request sent on a connection just as the
    # server closes it fails with a reset, and an order's POST is not resent by their clients.
    api_keep_alive_seconds: int = Field(default=75, ge=1)

    payload_encryption_key: str = ""
    # The codec server of the Temporal UI (api/routes/codec.py): the scope a caller's token
    # needs (empty: no token, refused in production), and the UI origins browsers call it from.
    codec_scope: str = "notifications.codec"
    codec_cors_origins: str = ""

    # Outbound webhooks (docs/webhooks.md).
    webhook_limit_per_tenant: int = Field(default=10, ge=1)
    webhook_allow_private_targets: bool = Field(
        default_factory=lambda data: data["environment"] != "production"
    )
    webhook_timeout_seconds: float = Field(default=ATTEMPT_SECONDS, gt=0.0, le=60.0)
    webhook_max_concurrent_deliveries: int = Field(default=100, ge=1)

    @property
    def api_url(self) -> str:
        """The API's base URL as the local tools and the simulator reach it."""
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def codec_origins(self) -> list[str]:
        """CODEC_CORS_ORIGINS, comma-separated, as a list."""
        return [origin.strip() for origin in self.codec_cors_origins.split(",") if origin.strip()]

    @property
    def webhook_task_queue(self) -> str:
        return webhook_task_queue(self.temporal_task_queue)

    @property
    def budget(self) -> HandoverBudget:
        return HandoverBudget(
            deadline_seconds=self.handover_deadline_seconds,
            gateway_timeout_seconds=self.gateway_timeout_seconds,
            task_timeout_seconds=self.workflow_task_timeout_seconds,
        )

    @model_validator(mode="after")
    def _budget_fits(self) -> "Settings":
        conflicts = self.budget.conflicts()
        if conflicts:
            raise ValueError("the handover's timeouts do not fit: " + "; ".join(conflicts))
        return self

    @model_validator(mode="before")
    @classmethod
    def _provider_keywords(cls, data: Any) -> Any:
        """`twilio_auth_token=…` as a keyword means what `TWILIO_AUTH_TOKEN` means in the
        environment: the `auth_token` of the `twilio` section."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in [k for k in data if k not in cls.model_fields]:
            section, _, name = key.partition("_")
            if section in ProviderSettings.model_fields and isinstance(data.get(section, {}), dict):
                data[section] = {**data.get(section, {}), name: data.pop(key)}
        return data

    @field_validator("sms_providers", "email_providers", "previous_public_base_urls", mode="before")
    @classmethod
    def _name_list(cls, value: Any) -> Any:
        return _names(value)

    @field_validator("sms_allowed_countries", mode="before")
    @classmethod
    def _country_list(cls, value: Any) -> Any:
        countries = [c.upper() for c in _names(value)]
        unknown = [c for c in countries if c not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"not ISO 3166 alpha-2 codes of a numbering plan: {unknown}")
        return countries

    @field_validator("email_sender_domains", mode="before")
    @classmethod
    def _domain_list(cls, value: Any) -> Any:
        domains = _names(value)
        if not isinstance(domains, list):
            return domains
        unusable = [d for d in domains if not is_mail_domain(d)]
        if unusable:
            # A pattern (`*.example.no`) or a typo would refuse every sender at the domain meant;
            # a domain no sender address can be at (the orders' rule) would list nothing.
            raise ValueError(f"not domain names (one per entry, no patterns): {unusable}")
        return [mail_domain(d) for d in domains]

    @model_validator(mode="after")
    def _retention_outlasts_every_order(self) -> "Settings":
        # An order's workflow writes its row until its TTL and the grace have passed (a late
        # report, a webhook's first attempt): removed before that, the row's next write fails
        # for good, and the workflow never ends.
        longest = max(MAX_SMS_TTL_SECONDS, self.email_ttl_seconds) + self.ttl_grace_seconds
        shortest_days = (longest + _RETENTION_MARGIN_SECONDS) // _DAY_SECONDS + 1
        if 0 < self.retention_days < shortest_days:
            raise ValueError(
                f"RETENTION_DAYS must be 0 or at least {shortest_days}: longer than the longest"
                f" order ({longest} s, its TTL and TTL_GRACE_SECONDS) and an hour"
            )
        return self

    @model_validator(mode="after")
    def _default_sender_is_allowed(self) -> "Settings":
        domain = mail_domain(self.email_default_sender)
        if self.email_sender_domains and domain not in self.email_sender_domains:
            raise ValueError(
                f"EMAIL_DEFAULT_SENDER is at {domain}, which is not in EMAIL_SENDER_DOMAINS"
            )
        return self

    @field_validator("delivery_report_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: str) -> str:
        standard_webhooks.secret_key(value)  # refuses a secret that is not base64
        return value

    @model_validator(mode="after")
    def _providers_exist(self) -> "Settings":
        for channel, chosen, known in (
            ("SMS_PROVIDERS", self.sms_providers, self.sms_sections()),
            ("EMAIL_PROVIDERS", self.email_providers, self.email_sections()),
        ):
            unknown = [name for name in chosen if name not in known]
            if unknown or not chosen or len(set(chosen)) != len(chosen):
                raise ValueError(
                    f"{channel} must name each provider once, from {sorted(known)}: {chosen}"
                )
        return self

    @field_validator("payload_encryption_key")
    @classmethod
    def _keyring_is_readable(cls, value: str) -> str:
        parse_keyring(value)
        return value

    @field_validator("codec_cors_origins")
    @classmethod
    def _named_origins(cls, value: str) -> str:
        # The codec is called with credentials: `*` would echo back any page's origin.
        if "*" in value:
            raise ValueError("CODEC_CORS_ORIGINS names origins; `*` would let any page call")
        return value

    @model_validator(mode="after")
    def _ready_outside_development(self) -> "Settings":
        """Outside development: no published or weak secret, tokens that can be verified, and
        the set-up production needs."""
        if self.environment != "development":
            self._check_secrets()
            self._check_tokens()
            self._check_setup()
        return self

    def _check_secrets(self) -> None:
        secrets = (
            ("AUTH_JWT_SECRET", self.auth_jwt_secret, DEV_JWT_SECRET),
            ("DELIVERY_REPORT_SECRET", self.delivery_report_secret, DEV_REPORT_SECRET),
        )
        weak = [
            name
            for name, value, default in secrets
            if value == default or (value and len(value) < _MIN_SECRET_LENGTH) or _published(value)
        ]
        # The key that seals; an older one may stay listed to open what it sealed.
        sealing = self.payload_encryption_key.split(",")[0]
        weak += [
            name
            for name, value in (
                ("PAYLOAD_ENCRYPTION_KEY", sealing),
                ("DATABASE_URL", self.database_url),
            )
            if _published(value)
        ]
        if weak:
            raise ValueError(f"weak, development or example secrets outside development: {weak}")

    def _check_tokens(self) -> None:
        if not self.auth_jwt_secret and not self.auth_jwks_url:
            raise ValueError("set AUTH_JWKS_URL (or AUTH_JWT_SECRET): no token could be verified")
        if self.auth_jwks_url and not (
            self.auth_jwks_url.startswith("https://") and self.auth_issuer and self.auth_audience
        ):
            raise ValueError(
                "AUTH_JWKS_URL needs https (a key set read in clear text can be replaced on the "
                "way), AUTH_ISSUER and AUTH_AUDIENCE (else a token another issuer of the key "
                "set, or the provider for another service, issued is taken)"
            )

    def _check_setup(self) -> None:
        """What production needs beyond secrets: providers that can send and be heard from,
        one shared store, sealed payloads, a codec for the UI's logged-in users only."""
        missing = [
            gap
            for name in dict.fromkeys([*self.sms_providers, *self.email_providers])
            if isinstance(section := self.sections()[name], NeedsSetup)
            for gap in section.missing(self.public_base_url)
        ]
        if missing:
            raise ValueError(
                f"the providers in use need {missing}: without them every send, or every "
                "report of what was sent, is refused (docs/providers.md)"
            )
        if self.database_url.startswith("sqlite"):
            raise ValueError(
                "DATABASE_URL: SQLite is for development; in production the API and the workers "
                "share one PostgreSQL store (each container would keep a store of its own)"
            )
        if not self.payload_encryption_key:
            raise ValueError(
                "set PAYLOAD_ENCRYPTION_KEY: without it message bodies are stored readable in "
                "Temporal's history (docs/security.md#message-bodies)"
            )
        if not self.codec_scope:
            raise ValueError("set CODEC_SCOPE: without it the codec server decodes for anyone")


def _published(value: str) -> bool:
    """A value of deploy/example.env: it says `change-me`, itself or in one of its base64
    parts (a report secret's after `whsec_`, a keyring's keys after their ids)."""
    if _PLACEHOLDER.decode() in value.lower():
        return True
    for part in re.split(r"[,:_]", value):
        with contextlib.suppress(binascii.Error, ValueError):
            if _PLACEHOLDER in base64.b64decode(part + "=" * (-len(part) % 4)).lower():
                return True
    return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
