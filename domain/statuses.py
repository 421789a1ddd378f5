"""Order and recipient statuses, which are final, and how gateway report codes map to them."""

from enum import StrEnum

from domain.orders import Channel


class OrderStatus(StrEnum):
    PROCESSED = "Order_Processed"
    COMPLETED = "Order_Completed"


class ShipmentStatus(StrEnum):
    SMS_SENDING = "SMS_Sending"
    SMS_ACCEPTED = "SMS_Accepted"
    SMS_DELIVERED = "SMS_Delivered"
    SMS_FAILED = "SMS_Failed"
    SMS_FAILED_INVALID_RECIPIENT = "SMS_Failed_InvalidRecipient"
    SMS_FAILED_BARRED_RECEIVER = "SMS_Failed_BarredReceiver"
    SMS_FAILED_DELETED = "SMS_Failed_Deleted"
    SMS_FAILED_EXPIRED = "SMS_Failed_Expired"
    SMS_FAILED_UNDELIVERED = "SMS_Failed_Undelivered"
    SMS_FAILED_REJECTED = "SMS_Failed_Rejected"
    SMS_FAILED_TTL = "SMS_Failed_TTL"
    EMAIL_SENDING = "Email_Sending"
    EMAIL_SUCCEEDED = "Email_Succeeded"
    EMAIL_DELIVERED = "Email_Delivered"
    EMAIL_FAILED = "Email_Failed"
    EMAIL_FAILED_INVALID_FORMAT = "Email_Failed_InvalidFormat"
    EMAIL_FAILED_SUPPRESSED_RECIPIENT = "Email_Failed_SuppressedRecipient"
    EMAIL_FAILED_BOUNCED = "Email_Failed_Bounced"
    EMAIL_FAILED_FILTERED_SPAM = "Email_Failed_FilteredSpam"
    EMAIL_FAILED_QUARANTINED = "Email_Failed_Quarantined"
    EMAIL_FAILED_TTL = "Email_Failed_TTL"


_PENDING = frozenset(
    {
        ShipmentStatus.SMS_SENDING,
        ShipmentStatus.SMS_ACCEPTED,
        ShipmentStatus.EMAIL_SENDING,
        ShipmentStatus.EMAIL_SUCCEEDED,
    }
)


def is_final(status: str) -> bool:
    return status not in _PENDING


def order_status_of(status: str) -> OrderStatus:
    """The order is completed exactly when its one recipient's status is final."""
    return OrderStatus.COMPLETED if is_final(status) else OrderStatus.PROCESSED


def sending(channel: Channel) -> ShipmentStatus:
    return ShipmentStatus.SMS_SENDING if channel is Channel.SMS else ShipmentStatus.EMAIL_SENDING


def handed_over(channel: Channel) -> ShipmentStatus:
    return ShipmentStatus.SMS_ACCEPTED if channel is Channel.SMS else ShipmentStatus.EMAIL_SUCCEEDED


def ttl_expired(channel: Channel) -> ShipmentStatus:
    return (
        ShipmentStatus.SMS_FAILED_TTL if channel is Channel.SMS else ShipmentStatus.EMAIL_FAILED_TTL
    )


def refused_recipient(channel: Channel) -> ShipmentStatus:
    if channel is Channel.SMS:
        return ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT
    return ShipmentStatus.EMAIL_FAILED_INVALID_FORMAT


def refused(channel: Channel) -> ShipmentStatus:
    return ShipmentStatus.SMS_FAILED if channel is Channel.SMS else ShipmentStatus.EMAIL_FAILED


def barred(channel: Channel) -> ShipmentStatus:
    """The gateway refused the recipient as blocked, unsubscribed or suppressed."""
    if channel is Channel.SMS:
        return ShipmentStatus.SMS_FAILED_BARRED_RECEIVER
    return ShipmentStatus.EMAIL_FAILED_SUPPRESSED_RECIPIENT


# SMS delivery-report states, SMPP/Link Mobility vocabulary (reference section 4.2).
SMS_REPORT_STATES: dict[str, ShipmentStatus] = {
    "DELIVRD": ShipmentStatus.SMS_DELIVERED,
    "FAILED": ShipmentStatus.SMS_FAILED,
    "UNKNOWN": ShipmentStatus.SMS_FAILED,
    "NULL": ShipmentStatus.SMS_FAILED,
    "BARRED": ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,
    "DELETED": ShipmentStatus.SMS_FAILED_DELETED,
    "EXPIRED": ShipmentStatus.SMS_FAILED_EXPIRED,
    "UNDELIV": ShipmentStatus.SMS_FAILED_UNDELIVERED,
    "REJECTD": ShipmentStatus.SMS_FAILED_REJECTED,
}

# Email delivery-report states, Azure Communication Services vocabulary (reference 5.2).
EMAIL_REPORT_STATES: dict[str, ShipmentStatus] = {
    "Delivered": ShipmentStatus.EMAIL_DELIVERED,
    "Bounced": ShipmentStatus.EMAIL_FAILED_BOUNCED,
    "Expanded": ShipmentStatus.EMAIL_FAILED,
    "Failed": ShipmentStatus.EMAIL_FAILED,
    "FilteredSpam": ShipmentStatus.EMAIL_FAILED_FILTERED_SPAM,
    "Quarantined": ShipmentStatus.EMAIL_FAILED_QUARANTINED,
    "Suppressed": ShipmentStatus.EMAIL_FAILED_SUPPRESSED_RECIPIENT,
}

# Twilio message statuses (MessageStatus of a status callback). Those absent decide nothing yet:
# queued, accepted, scheduled, sending, sent.
TWILIO_REPORT_STATES: dict[str, ShipmentStatus] = {
    "delivered": ShipmentStatus.SMS_DELIVERED,
    "read": ShipmentStatus.SMS_DELIVERED,
    "undelivered": ShipmentStatus.SMS_FAILED_UNDELIVERED,
    "failed": ShipmentStatus.SMS_FAILED,
    "canceled": ShipmentStatus.SMS_FAILED,
}
TWILIO_PENDING_STATES = frozenset({"queued", "accepted", "scheduled", "sending", "sent"})

# Twilio error codes that say more than the status of a failed or undelivered message.
TWILIO_ERROR_CODES: dict[int, ShipmentStatus] = {
    21211: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # invalid 'To' number
    21614: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # 'To' is not a mobile number
    21610: ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # recipient unsubscribed (STOP)
    30003: ShipmentStatus.SMS_FAILED_UNDELIVERED,  # unreachable destination handset
    30004: ShipmentStatus.SMS_FAILED_BARRED_RECEIVER,  # message blocked
    30005: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # unknown destination handset
    30006: ShipmentStatus.SMS_FAILED_INVALID_RECIPIENT,  # landline or unreachable carrier
    30007: ShipmentStatus.SMS_FAILED_REJECTED,  # filtered by the carrier
    30008: ShipmentStatus.SMS_FAILED,  # unknown error
    30036: ShipmentStatus.SMS_FAILED_EXPIRED,  # validity period expired
}

# SMTP delivery status notifications (RFC 3464 `Action`); delayed, relayed and expanded
# decide nothing.
DSN_ACTIONS: dict[str, ShipmentStatus] = {
    "delivered": ShipmentStatus.EMAIL_DELIVERED,
    "failed": ShipmentStatus.EMAIL_FAILED_BOUNCED,
}
DSN_PENDING_ACTIONS = frozenset({"delayed", "relayed", "expanded"})
