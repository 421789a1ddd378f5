"""Bookkeeping of inbound reports: dead reports, late reports and replayed webhook ids."""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.models import DeadReport, ShipmentEvent, WebhookReceipt


def add_dead_report(session: Session, report: DeadReport) -> None:
    session.add(report)


def add_late_report(session: Session, event: ShipmentEvent) -> None:
    """A report for a closed workflow: history only, the final status does not change."""
    session.add(event)


def claim_webhook(session: Session, webhook_id: str, at: datetime) -> bool:
    """True for the first delivery of a webhook; a replay, even a concurrent one, gets False."""
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(webhook_id=webhook_id, received_at=at))
    except IntegrityError:
        return False
    return True


def release_webhook(session: Session, webhook_id: str) -> None:
    """Undo a claim whose processing failed, so that the sender's retry is processed."""
    session.execute(delete(WebhookReceipt).where(col(WebhookReceipt.webhook_id) == webhook_id))
