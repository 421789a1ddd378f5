"""Bookkeeping of inbound reports: dead reports, late reports and replayed webhook ids."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store.models import DeadReport, ShipmentEvent, WebhookReceipt


def add_dead_report(session: Session, report: DeadReport) -> None:
    session.add(report)


def add_late_report(session: Session, event: ShipmentEvent) -> None:
    """A report for a closed workflow: history only, the final status does not change."""
    session.add(event)


def seen_webhook(session: Session, webhook_id: str) -> bool:
    return (
        session.exec(
            select(WebhookReceipt.webhook_id).where(WebhookReceipt.webhook_id == webhook_id)
        ).first()
        is not None
    )


def remember_webhook(session: Session, webhook_id: str, at: datetime) -> None:
    """Two deliveries of one webhook may race; the second finds the row and changes nothing."""
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(webhook_id=webhook_id, received_at=at))
    except IntegrityError:
        pass
