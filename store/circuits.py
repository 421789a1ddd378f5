"""The circuits of the workers' providers, as each worker reports their changes."""

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from store.models import ProviderCircuit


def report_circuit(session: Session, circuit: ProviderCircuit) -> None:
    """One row per (worker, channel, provider): the latest state replaces the one before."""
    session.merge(circuit)


def open_circuits(session: Session, now: datetime) -> list[ProviderCircuit]:
    """The circuits some worker keeps open now. One whose cooldown has ended is no longer open,
    whether its worker is still there to probe the provider or has gone."""
    return list(
        session.exec(
            select(ProviderCircuit)
            .where(col(ProviderCircuit.open_until) > now)
            .order_by(col(ProviderCircuit.channel), col(ProviderCircuit.provider))
        )
    )


def forget_old_circuits(session: Session, cutoff: datetime) -> None:
    """Rows last changed before `cutoff`: long closed, or of workers long gone."""
    session.execute(delete(ProviderCircuit).where(col(ProviderCircuit.changed_at) < cutoff))
