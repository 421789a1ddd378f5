"""Bodies of the instant order routes, with every validation rule of the contract."""

import functools
from typing import Annotated, Any, TypeGuard

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from api.schemas import rules
from api.schemas.numbers import NumberInString
from domain.ids import MAX_KEY_BYTES
from domain.orders import MAX_SMS_TTL_SECONDS, ContentType, EmailMessage, SmsMessage
from domain.sms import SmsCapacity


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(ApiModel):
    """An object of a request's body. Its names are matched regardless of case, as ASP.NET's
    JSON binding matches them (a .NET client may send `IdempotencyId`), and only by their JSON
    names (`idempotency_id` is no name of ours)."""

    model_config = ConfigDict(populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _names_in_any_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = _json_names(cls)
        named: dict[str, Any] = {}
        for key, value in data.items():  # a JSON object's: its keys are strings
            name: str = names.get(key.lower()) or key
            if name in named:
                raise PydanticCustomError(
                    "duplicate_name",
                    "The name {name} appears more than once in one object, in two spellings.",
                    {"name": name},
                )
            named[name] = value
        return named


@functools.cache
def _json_names(model: type[BaseModel]) -> dict[str, str]:
    aliases = (field.alias for field in model.model_fields.values())
    return {alias.lower(): alias for alias in aliases if alias}


def _rule(check: Any, kind: str, message: str) -> AfterValidator:
    def validate(value: Any) -> Any:
        if not check(value):
            raise PydanticCustomError(kind, message)
        return value

    return AfterValidator(validate)


def _not_blank(value: str) -> bool:
    return bool(value.strip())


def _given(value: str | None) -> TypeGuard[str]:
    """Altinn takes a blank optional text as absent."""
    return bool(value and value.strip())


def _single_line(value: str) -> bool:
    return not rules.has_control_characters(value, allow_newlines=False)


def _text_body(value: str) -> bool:
    return not rules.has_control_characters(value, allow_newlines=True)


_CONTENT_TYPES: dict[str | int, ContentType] = {
    "plain": ContentType.PLAIN,
    "html": ContentType.HTML,
    0: ContentType.PLAIN,
    1: ContentType.HTML,
}


# What _content_type takes, as JSON Schema can say it (ECMA-262 patterns have no ignore-case flag).
_CONTENT_TYPE_SCHEMA: JsonDict = {
    "anyOf": [
        {"type": "string", "pattern": "^([Pp][Ll][Aa][Ii][Nn]|[Hh][Tt][Mm][Ll])$"},
        {"type": "integer", "enum": [0, 1]},
    ],
    "description": "Plain or Html in any case, or 0 (Plain) and 1 (Html). An Html body is "
    "sent with a plain-text alternative made from it, for readers that show no HTML.",
    "examples": ["Plain", "Html"],
}


def _content_type(value: Any) -> ContentType:
    """Plain or Html in any case, or the enum numbers 0 and 1, as Altinn's binder accepts.

    Only a string or a whole number is looked up: an object or a list cannot be a dict key,
    and `true` and `1.0` would match the numbers by equality."""
    key = value.lower() if isinstance(value, str) else value if type(value) is int else None
    if key is None or key not in _CONTENT_TYPES:
        raise PydanticCustomError(
            "content_type", "Email content type must be either Plain or HTML."
        )
    return _CONTENT_TYPES[key]


NotBlank = _rule(_not_blank, "blank", "Must not be empty.")
# Every string field: JSON can carry half a surrogate pair, which no store or gateway can encode.
Unicode = _rule(
    rules.is_unicode,
    "unicode",
    "Must be valid Unicode: a \\uD800-\\uDFFF escape must be half of a surrogate pair.",
)
Text = Annotated[StrictStr, Unicode]
SingleLine = _rule(_single_line, "control_characters", "Must not contain control characters.")
TextBody = _rule(_text_body, "control_characters", "Must not contain control characters.")

IdempotencyId = Annotated[
    Text,
    NotBlank,
    SingleLine,
    _rule(
        lambda v: len(v) <= rules.MAX_IDEMPOTENCY_ID and len(v.encode()) <= MAX_KEY_BYTES,
        "too_long",
        f"Must be at most {rules.MAX_IDEMPOTENCY_ID} characters and {MAX_KEY_BYTES} bytes "
        "in UTF-8 (it becomes part of the workflow ID).",
    ),
]
SendersReference = Annotated[
    Text | None,
    _rule(
        lambda v: v is None or len(v) <= rules.MAX_SENDERS_REFERENCE,
        "too_long",
        f"Must be at most {rules.MAX_SENDERS_REFERENCE} characters.",
    ),
    _rule(
        lambda v: v is None or _single_line(v),
        "control_characters",
        "Must not contain control characters.",
    ),
]
PhoneNumber = Annotated[
    Text,
    _rule(
        rules.is_valid_phone, "phone_number", "Recipient phone number is not a valid mobile number."
    ),
]
TimeToLive = Annotated[
    StrictInt,
    NumberInString,
    _rule(
        lambda v: 60 <= v <= MAX_SMS_TTL_SECONDS,
        "time_to_live",
        f"Time-to-live must be between 60 and {MAX_SMS_TTL_SECONDS} seconds (48 hours).",
    ),
]
# How long a body and which senders depend on the SMS provider: RecipientSmsIn.capacity_errors.
SmsBody = Annotated[
    Text,
    NotBlank,
    TextBody,
    Field(
        description="At most what the SMS provider carries whole: 2144 GSM characters or 1072 "
        "UCS-2 units through Link Mobility, 1600 through Twilio."
    ),
]
SmsSender = Annotated[
    Text | None,
    Field(
        description="A name of at most 11 characters (with at least one letter) or a number "
        "of at most 15 digits; blank or absent: the default sender."
    ),
]
EmailAddress = Annotated[
    Text,
    AfterValidator(str.strip),
    _rule(rules.is_valid_email, "email", "Invalid email address format."),
]
Subject = Annotated[
    Text,
    NotBlank,
    SingleLine,
    _rule(
        lambda v: not rules.breaks_lines(v),
        "line_separator",
        "Must be one line: an email subject cannot carry U+2028 or U+2029.",
    ),
    _rule(
        lambda v: len(v) <= rules.MAX_SUBJECT,
        "too_long",
        f"Must be at most {rules.MAX_SUBJECT} characters.",
    ),
]
EmailBody = Annotated[
    Text,
    NotBlank,
    TextBody,
    _rule(
        lambda v: len(v) <= rules.MAX_EMAIL_BODY,
        "too_long",
        f"Must be at most {rules.MAX_EMAIL_BODY} characters.",
    ),
]


class SmsSettingsIn(RequestModel):
    body: SmsBody
    sender: SmsSender = None


class RecipientSmsIn(RequestModel):
    phone_number: PhoneNumber
    time_to_live_in_seconds: TimeToLive
    sms_settings: SmsSettingsIn

    def message(self, default_sender: str) -> SmsMessage:
        sender = self.sms_settings.sender
        return SmsMessage(
            phone_number=self.phone_number,
            sender=sender if _given(sender) else default_sender,
            body=self.sms_settings.body,
        )

    def capacity_errors(self, capacity: SmsCapacity, path: str) -> dict[str, list[str]]:
        """What the provider could not carry as given, by field, under `path` (this object)."""
        settings = self.sms_settings
        faults = {
            "body": capacity.body_fault(settings.body),
            "sender": capacity.sender_fault(settings.sender) if _given(settings.sender) else None,
        }
        return {f"{path}.smsSettings.{name}": [fault] for name, fault in faults.items() if fault}


class EmailSettingsIn(RequestModel):
    subject: Subject
    body: EmailBody
    sender_email_address: Annotated[
        EmailAddress | None,
        Field(
            description="The from-address (default: the service's). Where the service is set "
            "to send from some domains only (EMAIL_SENDER_DOMAINS), one at any other is a 400."
        ),
    ] = None
    content_type: Annotated[
        ContentType, BeforeValidator(_content_type), WithJsonSchema(_CONTENT_TYPE_SCHEMA)
    ] = ContentType.PLAIN


class RecipientEmailIn(RequestModel):
    email_address: EmailAddress
    email_settings: EmailSettingsIn

    def message(self, default_sender: str) -> EmailMessage:
        settings = self.email_settings
        return EmailMessage(
            address=self.email_address,
            sender_address=settings.sender_email_address or default_sender,
            subject=settings.subject,
            body=settings.body,
            content_type=settings.content_type,
        )


class OrderIn(RequestModel):
    idempotency_id: IdempotencyId
    senders_reference: SendersReference = None

    def reference(self) -> str | None:
        """Altinn stores a blank sendersReference as absent."""
        value = self.senders_reference
        return value if _given(value) else None


_SMS_EXAMPLE: JsonDict = {
    "phoneNumber": "+4791234567",
    "timeToLiveInSeconds": 300,
    "smsSettings": {"sender": "Altinn", "body": "Your login code is 123456"},
}


class InstantSmsOrderIn(OrderIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "idempotencyId": "login-7f3c2a9e",
                    "sendersReference": "login-flow",
                    "recipientSms": _SMS_EXAMPLE,
                }
            ]
        }
    )

    recipient_sms: RecipientSmsIn


class InstantEmailOrderIn(OrderIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "idempotencyId": "login-5b81d04c",
                    "recipientEmail": {
                        "emailAddress": "kari.nordmann@example.no",
                        "emailSettings": {
                            "subject": "Your login code",
                            "body": "Your login code is 123456",
                            "contentType": "Plain",
                        },
                    },
                }
            ]
        }
    )

    recipient_email: RecipientEmailIn


class DeprecatedRecipientIn(RequestModel):
    recipient_sms: RecipientSmsIn


class DeprecatedInstantOrderIn(OrderIn):
    """The first instant shape: the SMS recipient nested under `recipient`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"idempotencyId": "login-0e6d91b2", "recipient": {"recipientSms": _SMS_EXAMPLE}}
            ]
        }
    )

    recipient: DeprecatedRecipientIn


class NotificationOut(ApiModel):
    shipment_id: str
    senders_reference: str | None = None


class OrderOut(ApiModel):
    notification_order_id: str
    notification: NotificationOut
