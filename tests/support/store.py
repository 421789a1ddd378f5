"""Reading the store behind the API, as a test checks what was written."""

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import shipments
from store.models import Shipment, ShipmentEvent


def shipment_row(engine: Engine, org: str, key: str) -> Shipment | None:
    with Session(engine) as session:
        return shipments.find_by_key(session, org, key)


def history(engine: Engine, shipment_id: str) -> list[ShipmentEvent]:
    with Session(engine) as session:
        return shipments.history(session, shipment_id)


def reports_in(events: list[ShipmentEvent]) -> list[ShipmentEvent]:
    """The delivery reports among a shipment's events, applied or not, late or not."""
    return [e for e in events if e.kind in ("report", "late_report")]
