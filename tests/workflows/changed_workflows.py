"""InstantNotificationWorkflow changed twice over, with and without `workflow.patched`."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.orders import NotificationInput, NotificationResult
    from workflows.instant_notification import InstantNotificationWorkflow

PATCH = "no-search-attributes-at-start"


@workflow.defn(name="InstantNotificationWorkflow")
class UnguardedChangeWorkflow(InstantNotificationWorkflow):
    """Drops the search attributes it set at start: a command less, unguarded."""

    @workflow.run
    async def run(self, order: NotificationInput) -> NotificationResult:
        return await super().run(order)

    def _publish_search_attributes(self) -> None:
        pass


@workflow.defn(name="InstantNotificationWorkflow")
class PatchedChangeWorkflow(InstantNotificationWorkflow):
    """The same change behind `workflow.patched`: runs recorded before it keep the old path."""

    @workflow.run
    async def run(self, order: NotificationInput) -> NotificationResult:
        return await super().run(order)

    def _publish_search_attributes(self) -> None:
        if not workflow.patched(PATCH):
            super()._publish_search_attributes()
