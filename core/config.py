"""All settings of the service, read once from the environment (and an optional `.env`)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_REPORT_SECRET = "whsec_ZGV2LW9ubHktZGVsaXZlcnktcmVwb3J0LXNlY3JldA=="


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

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "instant-notifications"
    temporal_ui_port: int = 8233
    temporal_db_file: str = ".data/temporal.sqlite"

    database_url: str = "sqlite:///.data/notifications.sqlite"

    auth_jwt_secret: str = DEV_JWT_SECRET
    auth_scope: str = "altinn:serviceowner/notifications.create"

    idempotency_mismatch: Literal["ignore", "reject"] = "ignore"

    handover_deadline_seconds: float = Field(default=10.0, gt=1.0)
    gateway_timeout_seconds: float = Field(default=4.0, gt=0.0)
    email_ttl_seconds: int = Field(default=172800, ge=60)
    ttl_grace_seconds: int = Field(default=60, ge=0)

    delivery_report_secret: str = DEV_REPORT_SECRET
    delivery_report_tolerance_seconds: int = 300

    sms_provider: Literal["simulator"] = "simulator"
    email_provider: Literal["simulator"] = "simulator"
    sms_default_sender: str = "Altinn"
    email_default_sender: str = "noreply@altinn.cloud"

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
        default_factory=lambda data: data["handover_deadline_seconds"] + 5.0, ge=0.0
    )
    api_shutdown_grace_seconds: int = Field(
        default_factory=lambda data: int(data["handover_deadline_seconds"]) + 5, ge=0
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
