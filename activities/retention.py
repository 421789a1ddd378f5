"""The retention activity: one small batch of what the store no longer needs to keep."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from store import circuits, retention


@dataclass(frozen=True)
class RetentionBatchInput:
    cutoff: datetime
    batch_size: int


@dataclass(frozen=True)
class RetentionBatchResult:
    shipments: int
    records: int

    def full(self, batch_size: int) -> bool:
        """Whether there may be more to remove."""
        return max(self.shipments, self.records) >= batch_size


class RetentionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def remove_expired(self, data: RetentionBatchInput) -> RetentionBatchResult:
        """Each part commits on its own, so no transaction holds rows (or SQLite's one write
        lock) for longer than one small batch."""
        with Session(self._engine) as session:
            shipments = retention.remove_old_shipments(session, data.cutoff, data.batch_size)
            session.commit()
            records = retention.remove_old_records(session, data.cutoff, data.batch_size)
            session.commit()
            circuits.forget_old_circuits(session, data.cutoff)
            session.commit()
        return RetentionBatchResult(shipments=shipments, records=records)
