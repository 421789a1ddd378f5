"""RetentionWorkflow: removes from the store what is older than the retention period."""

from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities, RetentionBatchInput

# Between two batches the order path has the store to itself (SQLite has one writer at a time).
_PAUSE = timedelta(milliseconds=200)
# A run's history stays small: after this many batches it continues as a new run.
_BATCHES_PER_RUN = 500
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@dataclass(frozen=True)
class RetentionInput:
    days: int
    batch_size: int = 500
    removed_before: int = 0  # by the runs this one continues


@dataclass(frozen=True)
class RetentionResult:
    removed: int


@workflow.defn
class RetentionWorkflow:
    """Started by a Temporal Schedule; removes completed shipments (with their history and feed
    entries) and report bookkeeping older than `days`, in small batches with pauses between."""

    @workflow.run
    async def run(self, data: RetentionInput) -> RetentionResult:
        cutoff = workflow.now() - timedelta(days=data.days)
        removed = data.removed_before
        for _ in range(_BATCHES_PER_RUN):
            batch = await workflow.execute_activity_method(
                RetentionActivities.remove_expired,
                RetentionBatchInput(cutoff=cutoff, batch_size=data.batch_size),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=_RETRY,
            )
            removed += batch.shipments + batch.records
            if not batch.full(data.batch_size):
                return RetentionResult(removed=removed)
            await workflow.sleep(_PAUSE)
        workflow.continue_as_new(replace(data, removed_before=removed))
