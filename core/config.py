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


@lru_cache
def get_settings() -> Settings:
    return Settings()
