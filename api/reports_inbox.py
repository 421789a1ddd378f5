"""Delivery reports in: verify, match to a shipment, signal its workflow, keep what cannot be."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem, unavailable
from core.metrics import ReportOutcome, count_report
from domain.reports import DeliveryReport, MatchKey
from domain.statuses import is_final
from gateways.base import (
    InboundReport,
    ReadReports,
    ReportReader,
    ReportRejected,
    ReportResponse,
    ReportUnreadable,
)
from store import reports as report_store
from store import shipments
from store.engine import autocommitted, committed
from store.models import DeadReport, ShipmentEvent
from store.reports import CLAIM_LEASE, Claim
from store.shipments import ShipmentWorkflow
from workflows.instant_notification import InstantNotificationWorkflow

log = logging.getLogger(__name__)
T = TypeVar("T")
# Reports that decide nothing (states in flight; any, once the shipment is final) given to one
# order's workflow at most by this route, and held for its handover at most (final ones get
# `store.reports.FINAL_ROOM` more). Each adds events to its history: thousands (a provider's
# flood of distinct ids) made a replay take longer than a workflow task may, then reached
# Temporal's signal and history limits. The rest are kept in the shipment's history as
# `surplus_report`, or, held ones, as dead reports (`SURPLUS_HELD`).
REPORTS_PER_ORDER = 100


@dataclass(frozen=True)
class InboxResult:
    received: int
    duplicate: bool = False
    response: ReportResponse | None = None


class ReportInbox:
    def __init__(self, client: Client, engine: Engine, readers: dict[str, ReportReader]) -> None:
        self._client = client
        self._engine = engine
        self._readers = readers

    async def receive(self, provider: str, inbound: InboundReport) -> InboxResult:
        reader = self._readers.get(provider)
        if reader is None:
            raise Problem(404, "Not Found", f"No delivery-report provider named {provider!r}.")
        try:
            read = reader.read(inbound)
        except ReportRejected as exc:
            count_report(provider, ReportOutcome.REJECTED)
            raise Problem(401, "Unauthorized", f"The report is not authentic: {exc}.") from exc
        except ReportUnreadable as exc:
            await self._keep_dead(provider, None, "UNREADABLE", reader.kept(inbound.body))
            count_report(provider, ReportOutcome.DEAD)
            raise Problem(400, "Bad Request", f"The report could not be read: {exc}.") from exc
        delivery_id = read.delivery_id
        claim = Claim.NEW
        if delivery_id is not None:
            claim = await run_in_threadpool(self._claim, delivery_id, datetime.now(UTC))
        if claim is Claim.DONE:
            count_report(provider, ReportOutcome.DUPLICATE)
            return InboxResult(received=0, duplicate=True, response=read.response)
        if claim is Claim.BUSY:
            # Not a replay yet: if that delivery fails, only this retry can bring the reports.
            raise unavailable(
                "Another delivery of this request is being processed.",
                retry_after=int(CLAIM_LEASE.total_seconds()),
            )
        try:
            await self._process(provider, reader, read, inbound.body)
            if delivery_id is not None:
                await self._autocommit(report_store.finish_webhook, delivery_id)
        except BaseException:
            if delivery_id is not None:
                await self._autocommit(report_store.release_webhook, delivery_id)
            raise
        return InboxResult(received=len(read.reports), response=read.response)

    async def _process(
        self, provider: str, reader: ReportReader, read: ReadReports, body: bytes
    ) -> None:
        unknown = [report for report in read.reports if not await self._deliver(report)]
        # What the reader keeps of the body, made only when something is kept.
        raw = reader.kept(body) if unknown or read.unreadable else b""
        # Kept once every report of the request is delivered: a failed delivery is answered
        # 503, and the provider's retry would keep them a second time. One row per reference,
        # each the whole body: a DSN's recipients all name the one envelope.
        for named, reference in dict.fromkeys((r.provider, r.reference) for r in unknown):
            await self._keep_dead(named, reference, "UNKNOWN_REFERENCE", raw)
        for report in unknown:
            count_report(report.provider, ReportOutcome.DEAD)
        if read.unreadable:
            # One row for the request, whatever the number of parts that could not be read.
            log.warning("%s report parts unreadable: %s", provider, "; ".join(read.unreadable))
            await self._keep_dead(provider, None, "UNREADABLE", raw)
        for _ in read.unreadable:
            count_report(provider, ReportOutcome.DEAD)

    async def _deliver(self, report: DeliveryReport) -> bool:
        """False for a report that names no shipment."""
        row = await run_in_threadpool(self._find, report)
        if row is not None and (awaited := _name_awaited(row, report)):
            # The shipment does not know the message's name yet (a bounce that outran the
            # record of its handover, or of one left unconfirmed): held under the name it
            # proves, it is claimed once that is recorded, and never if the name was made up.
            report = replace(report, reference=awaited, matched_by=MatchKey.GATEWAY_REFERENCE)
            row = None
        if row is None and report.matched_by is MatchKey.GATEWAY_REFERENCE:
            try:
                row = await run_in_threadpool(self._hold, report)
            except report_store.HeldFull:
                # The workflow claims every held report when its handover is recorded.
                await self._dead(report, "SURPLUS_HELD")
                return True
            if row is None:
                count_report(report.provider, ReportOutcome.HELD)
                return True
        if row is None:
            return False
        if row.provider != report.provider:
            # Only the provider asked can report on the message. Anyone may mail the mailbox
            # whose DSNs the SMTP route relays, and our reference is a hash of tenant and key.
            await self._dead(report, "OTHER_PROVIDER")
            return True
        if report.proof is not None and report.proof != row.gateway_reference:
            # Nor can anyone who merely knows the reference: a bounce must return the message.
            await self._dead(report, "UNPROVEN")
            return True
        if await self._kept_past_the_fill(report, row):
            return True
        handle = self._client.get_workflow_handle(row.workflow_id)
        try:
            await handle.signal(InstantNotificationWorkflow.report, report)
            count_report(report.provider, ReportOutcome.SIGNALLED)
        except RuntimeError as exc:
            raise unavailable("The report could not reach the workflow engine.") from exc
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                log.warning(
                    "report for %s (shipment %s) not signalled: %s",
                    report.reference,
                    row.shipment_id,
                    exc.status,
                )
                raise unavailable("The report could not reach the workflow engine.") from exc
            await self._write(report_store.add_late_report, _kept(row, report, "late_report"))
            count_report(report.provider, ReportOutcome.LATE)
        return True

    async def _kept_past_the_fill(self, report: DeliveryReport, row: ShipmentWorkflow) -> bool:
        """A report that decides nothing, once the workflow had its fill, goes to the
        shipment's history only."""
        if _decides(report, row) or await run_in_threadpool(self._admit, row.shipment_id):
            return False
        await self._write(report_store.add_late_report, _kept(row, report, "surplus_report"))
        count_report(report.provider, ReportOutcome.SURPLUS)
        return True

    # One statement each, on every report: no transaction around them, no BEGIN and COMMIT.
    def _claim(self, delivery_id: str, at: datetime) -> Claim:
        with autocommitted(self._engine) as connection:
            return report_store.claim_webhook(connection, delivery_id, at)

    async def _autocommit(self, write: Callable[[Connection, str], None], key: str) -> None:
        def run() -> None:
            with autocommitted(self._engine) as connection:
                write(connection, key)

        await run_in_threadpool(run)

    def _admit(self, shipment_id: str) -> bool:
        with autocommitted(self._engine) as connection:
            return report_store.admit_report(connection, shipment_id, REPORTS_PER_ORDER)

    def _find(self, report: DeliveryReport) -> ShipmentWorkflow | None:
        with autocommitted(self._engine) as connection:
            return shipments.workflow_of(connection, report.reference, report.matched_by)

    def _hold(self, report: DeliveryReport) -> ShipmentWorkflow | None:
        """Keep a report that outran the record of its handover. The workflow claims it when
        it records the gateway reference; if that happened meanwhile, the claim is ours."""
        with Session(self._engine) as session:
            held_id = report_store.hold_report(session, report, REPORTS_PER_ORDER)
            session.commit()
        with Session(self._engine) as session:
            key = MatchKey.GATEWAY_REFERENCE
            row = shipments.workflow_of(session.connection(), report.reference, key)
            if row is None or not report_store.claim_held_report(session, held_id, row.shipment_id):
                log.info("report for gateway reference %s held for its handover", report.reference)
                return None
            session.commit()
            return row

    async def _write(self, write: Callable[..., T], *args: object) -> T:
        """One store write, in its own transaction, off the event loop."""
        result: T = await run_in_threadpool(committed, self._engine, write, *args)
        return result

    async def _dead(self, report: DeliveryReport, reason: str) -> None:
        """A report read, and kept rather than delivered."""
        raw = report_store.report_json(report).encode()
        await self._keep_dead(report.provider, report.reference, reason, raw)
        count_report(report.provider, ReportOutcome.DEAD)

    async def _keep_dead(
        self, provider: str, reference: str | None, reason: str, raw: bytes
    ) -> None:
        log.warning("dead %s report from %s (reference %s)", reason, provider, reference)
        dead = DeadReport(
            provider=provider,
            reference=reference,
            reason=reason,
            payload=raw.decode("utf-8", "replace"),
            received_at=datetime.now(UTC),
        )
        await self._write(report_store.add_dead_report, dead)


def _decides(report: DeliveryReport, row: ShipmentWorkflow) -> bool:
    """A final report for a shipment not final yet: it goes to the workflow, whatever the count."""
    final = report.status is not None and is_final(report.status)
    return final and not is_final(row.status)


def _kept(row: ShipmentWorkflow, report: DeliveryReport, kind: str) -> ShipmentEvent:
    """A report for the shipment's history only."""
    return ShipmentEvent(
        shipment_id=row.shipment_id,
        kind=kind,
        status=report.status,
        applied=False,
        provider=report.provider,
        provider_status=report.provider_status,
        report_id=report.report_id,
        at=report.received_at,
    )


def _name_awaited(row: ShipmentWorkflow, report: DeliveryReport) -> str | None:
    """The name a proving report gives its message, where the shipment, its provider's, has
    no gateway reference yet and may still get one. Another provider's report is none on it (a
    held report is applied unchecked when claimed, and an ACS operation id follows from our
    reference); a shipment already final gets no name."""
    awaited = row.provider == report.provider and row.gateway_reference is None
    return report.proof if awaited and not is_final(row.status) else None
