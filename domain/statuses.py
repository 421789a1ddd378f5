"""Order and recipient statuses, and which are final. Each provider maps its own states onto
them, in its module in `gateways/`."""

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
