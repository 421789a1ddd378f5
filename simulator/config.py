"""Settings of the simulator, a separate service with its own environment variables."""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateways import standard_webhooks

_DEV_SECRET = "whsec_ZGV2LW9ubHktZGVsaXZlcnktcmVwb3J0LXNlY3JldA=="


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIMULATOR_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    http_port: int = 8025
    smtp_port: int = 2525
    webhook_url: str = "http://127.0.0.1:8000/notifications/api/v1/delivery-reports/simulator"
    webhook_secret: str = Field(
        default=_DEV_SECRET,
        validation_alias=AliasChoices("SIMULATOR_WEBHOOK_SECRET", "DELIVERY_REPORT_SECRET"),
    )
    report_delay_seconds: float = 0.1
    slow_handover_seconds: float = 2.0
    # Tests shrink the wait for reports that come 'at expiry' (60 s at least through the API).
    expiry_scale: float = 1.0

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: str) -> str:
        standard_webhooks.secret_key(value)  # refuses a secret that is not base64
        return value
