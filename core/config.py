"""All settings of the service, read once from the environment (and an optional `.env`)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.codec import parse_keyring
from domain.deadlines import SHUTDOWN_SPARE_SECONDS, HandoverBudget
from domain.webhooks import webhook_task_queue

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_REPORT_SECRET = "whsec_ZGV2LW9ubHktZGVsaXZlcnktcmVwb3J0LXNlY3JldA=="
_MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    # JSON lines for log shippers in production; plain text for a developer's terminal.
    log_format: Literal["text", "json"] = Field(
        default_factory=lambda data: "json" if data["environment"] == "production" else "text"
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    max_request_bytes: int = 64 * 1024

    # The connection (address, namespace, TLS, API key) is not here: core/connection.py reads
    # it with the SDK's environment configuration, the names the `temporal` CLI reads.
    temporal_task_queue: str = "instant-notifications"
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

    delivery_report_secret: str = DEV_REPORT_SECRET
    delivery_report_tolerance_seconds: int = 300

    sms_provider: Literal["simulator", "linkmobility", "twilio"] = "simulator"
    email_provider: Literal["simulator", "smtp", "acs"] = "simulator"
    sms_default_sender: str = "Altinn"
    email_default_sender: str = "noreply@altinn.cloud"

    # Link Mobility's XML gateway (PSWin), the SMS provider Altinn uses.
    linkmobility_base_url: str = "https://xml.pswin.com"
    linkmobility_username: str = ""
    linkmobility_password: str = ""
    linkmobility_report_username: str = ""
    linkmobility_report_password: str = ""

    twilio_base_url: str = "https://api.twilio.com"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_messaging_service_sid: str = ""

    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_tls: Literal["none", "starttls", "implicit"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""
    smtp_report_secret: str = ""

    acs_endpoint: str = ""
    acs_access_key: str = ""
    acs_api_version: str = "2025-09-01"
    acs_report_secret: str = ""

    simulator_url: str = "http://127.0.0.1:8025"
    simulator_smtp_host: str = "127.0.0.1"
    simulator_smtp_port: int = 2525
    simulator_webhook_url: str = ""

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
    webhook_timeout_seconds: float = Field(default=10.0, gt=0.0, le=60.0)
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

    @field_validator("payload_encryption_key")
    @classmethod
    def _keyring_is_readable(cls, value: str) -> str:
        parse_keyring(value)
        return value

    @model_validator(mode="after")
    def _no_weak_secrets_outside_development(self) -> "Settings":
        if self.environment == "development":
            return self
        weak = [
            name
            for name, value, default in (
                ("AUTH_JWT_SECRET", self.auth_jwt_secret, DEV_JWT_SECRET),
                ("DELIVERY_REPORT_SECRET", self.delivery_report_secret, DEV_REPORT_SECRET),
            )
            if value == default or (value and len(value) < _MIN_SECRET_LENGTH)
        ]
        if weak:
            raise ValueError(f"weak or development secrets outside development: {weak}")
        if not self.auth_jwt_secret and not self.auth_jwks_url:
            raise ValueError("set AUTH_JWKS_URL (or AUTH_JWT_SECRET): no token could be verified")
        if not self.payload_encryption_key:
            raise ValueError(
                "set PAYLOAD_ENCRYPTION_KEY: without it message bodies are stored readable in "
                "Temporal's history (docs/security.md#message-bodies)"
            )
        if not self.codec_scope:
            raise ValueError("set CODEC_SCOPE: without it the codec server decodes for anyone")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
