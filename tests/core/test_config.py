"""Settings refuse development or weak secrets outside development, and never repeat one."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.codec import new_key
from core.config import DEV_JWT_SECRET, DEV_REPORT_SECRET, Settings
from gateways.twilio import TwilioSettings
from simulator.config import SimulatorSettings

STRONG = "s" * 40
KEY = new_key("k1")


ISSUED = {"auth_issuer": "https://idp.example", "auth_audience": "notifications"}
STORE = "postgresql+psycopg://notifications:s3cret@postgres:5432/notifications"
EXAMPLE_ENV = Path(__file__).parents[2] / "deploy" / "example.env"


def production(**values: object) -> Settings:
    values = {"payload_encryption_key": KEY, "database_url": STORE, **values}
    return Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg, arg-type]


def example(name: str) -> str:
    """A value of deploy/example.env, the secrets of the compose trial."""
    found = re.search(rf"^{name}=(.*)$", EXAMPLE_ENV.read_text(), re.M)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"auth_jwt_secret": DEV_JWT_SECRET, "delivery_report_secret": STRONG},
        {"auth_jwt_secret": STRONG, "delivery_report_secret": DEV_REPORT_SECRET},
        {"auth_jwt_secret": "short", "delivery_report_secret": STRONG},
        {"auth_jwt_secret": "", "delivery_report_secret": STRONG},
        {"auth_jwt_secret": STRONG, "delivery_report_secret": STRONG, "payload_encryption_key": ""},
        {"auth_jwt_secret": STRONG, "delivery_report_secret": STRONG, "codec_scope": ""},
    ],
    ids=[
        "defaults",
        "dev-jwt",
        "dev-report",
        "short-jwt",
        "no-way-to-verify-tokens",
        "no-payload-key",
        "codec-for-anyone",
    ],
)
def test_production_refuses(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        production(**values)


def test_production_accepts_strong_secrets_or_jwks() -> None:
    assert production(auth_jwt_secret=STRONG, delivery_report_secret=STRONG)
    assert production(
        auth_jwt_secret="",
        auth_jwks_url="https://idp.example/jwks",
        auth_issuer="https://idp.example",
        auth_audience="notifications",
        delivery_report_secret=STRONG,
    )


def test_an_example_key_kept_only_to_open_what_it_sealed_is_accepted() -> None:
    """A deployment that sealed with the example key rotates it out: the new key first, the
    old one listed after it until its payloads are gone (docs/operations.md#key-rotation)."""
    keyring = f"{KEY},{example('PAYLOAD_ENCRYPTION_KEY')}"

    assert production(
        auth_jwt_secret=STRONG, delivery_report_secret=STRONG, payload_encryption_key=keyring
    )


def test_production_names_the_missing_payload_key() -> None:
    with pytest.raises(ValidationError, match="PAYLOAD_ENCRYPTION_KEY"):
        production(auth_jwt_secret=STRONG, delivery_report_secret=STRONG, payload_encryption_key="")


def test_development_defaults_are_allowed() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.auth_jwt_secret == DEV_JWT_SECRET
    assert settings.payload_encryption_key == ""


def test_malformed_payload_key_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, payload_encryption_key="k1:nope")  # type: ignore[call-arg]


def test_the_older_provider_names_are_read_as_a_list_of_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMS_PROVIDER", "twilio")
    monkeypatch.setenv("EMAIL_PROVIDERS", "acs, smtp")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.sms_providers, settings.email_providers) == (["twilio"], ["acs", "smtp"])

    monkeypatch.setenv("SMS_PROVIDERS", "linkmobility,twilio")  # the preferred name wins
    assert Settings(_env_file=None).sms_providers == ["linkmobility", "twilio"]  # type: ignore[call-arg]


def test_provider_settings_are_read_under_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")
    monkeypatch.setenv("SIMULATOR2_SMTP_PORT", "2600")
    settings = Settings(_env_file=None, smtp_port=2525)  # type: ignore[call-arg]
    assert settings.twilio.auth_token == "from-the-environment"
    assert (settings.simulator2.smtp_port, settings.smtp.port) == (2600, 2525)


@pytest.mark.parametrize(("seconds", "kept"), [("0", 0.0), ("300", 300.0), ("301", None)])
def test_smtp_connections_are_kept_open_at_most_five_minutes(
    monkeypatch: pytest.MonkeyPatch, seconds: str, kept: float | None
) -> None:
    """Longer, and a connection a NAT or firewall forgot would hold a handover for its
    timeout; Postfix itself closes one after 300 s."""
    monkeypatch.setenv("SMTP_IDLE_SECONDS", seconds)
    if kept is None:
        with pytest.raises(ValidationError, match="idle_seconds"):
            Settings(_env_file=None)  # type: ignore[call-arg]
    else:
        assert Settings(_env_file=None).smtp.idle_seconds == kept  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "values",
    [
        {"sms_providers": "twilio,nobody"},
        {"sms_providers": "smtp"},  # an email provider
        {"email_providers": "acs,acs"},
        {"email_providers": ""},
        {"sms_allowed_countries": "NO,XX"},
        {"sms_allowed_countries": "Norway"},
        {"email_sender_domains": "*.example.no"},
        {"email_sender_domains": "example.no,localhost"},
        {"email_sender_domains": "example..no"},
    ],
)
def test_unknown_providers_countries_and_domains_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_allowed_countries_are_a_list_in_any_case() -> None:
    settings = Settings(_env_file=None, sms_allowed_countries="no, dk")  # type: ignore[call-arg, arg-type]
    allowed = settings.sms_allowed_countries
    assert allowed == ["NO", "DK"]


def test_sender_domains_are_one_form_however_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_SENDER_DOMAINS", " Service.Example.NO, xn--blgen-vua.no,altinn.cloud")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.email_sender_domains == ["service.example.no", "bølgen.no", "altinn.cloud"]


def test_the_default_sender_must_be_at_a_sender_domain() -> None:
    """EMAIL_DEFAULT_SENDER (noreply@altinn.cloud) is used for every order that names none."""
    with pytest.raises(ValidationError, match=r"EMAIL_DEFAULT_SENDER is at altinn\.cloud"):
        Settings(_env_file=None, email_sender_domains="example.no")  # type: ignore[call-arg, arg-type]
    settings = Settings(_env_file=None, email_sender_domains="example.no,ALTINN.cloud")  # type: ignore[call-arg, arg-type]
    assert settings.email_sender_domains == ["example.no", "altinn.cloud"]


SECRET = "whsec_Zm9vYmFy-c2VjcmV0LXJlcG9ydC1rZXk_"  # URL-safe base64: refused


@pytest.mark.parametrize(
    "make",
    [
        lambda: Settings(_env_file=None, delivery_report_secret=SECRET),  # type: ignore[call-arg]
        lambda: production(auth_jwt_secret="short", delivery_report_secret=SECRET[:-1] + "A"),
        lambda: TwilioSettings(_env_file=None, auth_token=[SECRET]),  # type: ignore[call-arg, arg-type]
        lambda: SimulatorSettings(_env_file=None, SIMULATOR_WEBHOOK_SECRET=SECRET),  # type: ignore[call-arg]
        # The key without its `id:`, as it is easily pasted, after a good one.
        lambda: Settings(_env_file=None, payload_encryption_key=f"{KEY},{KEY[3:-1]}+"),  # type: ignore[call-arg]
    ],
    ids=["a-field", "the-production-check", "a-provider-section", "the-simulator", "a-bare-key"],
)
def test_a_refused_settings_value_is_not_repeated_in_the_refusal(
    make: Callable[[], object],
) -> None:
    """The refusal goes to the process's log: the value may be the secret itself."""
    with pytest.raises(ValidationError) as refused:
        make()
    assert "input_value" not in str(refused.value)
    assert SECRET[-12:-1] not in str(refused.value)
    assert KEY[-12:-1] not in str(refused.value)


@pytest.mark.parametrize(
    ("values", "shortest"),
    [({"retention_days": 2}, 3), ({"retention_days": 5, "email_ttl_seconds": 5 * 86_400}, 6)],
)
def test_retention_must_outlast_the_longest_order(values: dict[str, int], shortest: int) -> None:
    """Shorter, it would remove the row of an order whose workflow still writes it."""
    with pytest.raises(ValidationError, match=f"RETENTION_DAYS must be 0 or at least {shortest}"):
        Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]
    kept = Settings(_env_file=None, **{**values, "retention_days": shortest})  # type: ignore[call-arg, arg-type]
    assert kept.retention_days == shortest
    assert Settings(_env_file=None, **{**values, "retention_days": 0}).retention_days == 0  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize(
    "values",
    [
        {"max_request_bytes": 0},
        {"temporal_task_queue": ""},
        {"delivery_report_tolerance_seconds": -5},
        # The codec is called with credentials: `*` would echo back any page's origin.
        {"codec_cors_origins": "*"},
    ],
    ids=["no-body-fits", "no-task-queue", "every-report-too-old", "codec-for-any-page"],
)
def test_a_setting_that_cannot_work_is_refused_everywhere(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=next(iter(values))):
        Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


TWILIO = {"twilio_account_sid": "AC" + "1" * 32, "twilio_auth_token": STRONG}
LINK = {"linkmobility_username": "u", "linkmobility_password": STRONG}
LINK_REPORTS = {"linkmobility_report_username": "r", "linkmobility_report_password": STRONG}
ACS = {"acs_endpoint": "https://x.communication.azure.com", "acs_access_key": "a2V5"}
JWKS_ONLY = {"auth_jwt_secret": "", "auth_jwks_url": "https://idp.example/jwks"}


@pytest.mark.parametrize(
    ("values", "named"),
    [
        # The compose trial's secrets are in the repository: anyone could sign tokens or
        # reports, or open payloads, with them. Each is refused by name.
        ({"auth_jwt_secret": example("AUTH_JWT_SECRET")}, "AUTH_JWT_SECRET"),
        ({"delivery_report_secret": example("DELIVERY_REPORT_SECRET")}, "DELIVERY_REPORT_SECRET"),
        ({"payload_encryption_key": example("PAYLOAD_ENCRYPTION_KEY")}, "PAYLOAD_ENCRYPTION_KEY"),
        (
            {
                "database_url": "postgresql+psycopg://notifications:"
                f"{example('NOTIFICATIONS_DB_PASSWORD')}@db/n"
            },
            "DATABASE_URL",
        ),
        ({**JWKS_ONLY, "auth_jwks_url": "http://idp.example/jwks", **ISSUED}, "https"),
        ({**JWKS_ONLY, "auth_issuer": "i"}, "AUTH_AUDIENCE"),
        ({**JWKS_ONLY, "auth_audience": "n"}, "AUTH_ISSUER"),
        ({"database_url": "sqlite:///.data/n.sqlite"}, "SQLite"),
        # Without its report credentials every report is refused, and every message it
        # delivered ends failed at its TTL: callers told so send it again.
        ({"sms_providers": "twilio"}, "TWILIO_ACCOUNT_SID"),
        ({"sms_providers": "twilio", **TWILIO}, "PUBLIC_BASE_URL"),
        (
            {"sms_providers": "twilio", **TWILIO, "public_base_url": "http://notify.example.no"},
            "PUBLIC_BASE_URL",
        ),
        ({"sms_providers": "linkmobility", **LINK}, "LINKMOBILITY_REPORT_USERNAME"),
        ({"email_providers": "acs", **ACS}, "ACS_REPORT_SECRET"),
    ],
    ids=[
        "example-jwt-secret",
        "example-report-secret",
        "example-payload-key",
        "example-database-password",
        "jwks-in-clear-text",
        "jwks-for-any-audience",
        "jwks-from-any-issuer",
        "sqlite",
        "twilio-account",
        "twilio-loopback",
        "twilio-http",
        "link-reports",
        "acs-reports",
    ],
)
def test_production_refuses_what_only_development_may_use(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        production(**{"auth_jwt_secret": STRONG, "delivery_report_secret": STRONG, **values})


def test_production_accepts_providers_set_up_in_full() -> None:
    settings = production(
        auth_jwt_secret=STRONG,
        delivery_report_secret=STRONG,
        sms_providers="linkmobility,twilio",
        email_providers="acs,smtp",
        public_base_url="https://notify.example.no",
        acs_report_secret=STRONG,
        **TWILIO,
        **LINK,
        **LINK_REPORTS,
        **ACS,
    )

    assert settings.sms_providers == ["linkmobility", "twilio"]
