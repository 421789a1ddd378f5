"""InstantNotificationWorkflow changed twice over, with and without `workflow.patched`."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.orders import NotificationInput, NotificationResult
    from workflows import search_attributes
    from workflows.instant_notification import InstantNotificationWorkflow

PATCH = "search-attributes-again-at-start"


def _publish_again(code: InstantNotificationWorkflow) -> None:
    pairs = search_attributes.at_start(code._order, code._shipment_id)
    workflow.upsert_search_attributes(search_attributes.upserts(pairs))


@workflow.defn(name="InstantNotificationWorkflow")
class UnguardedChangeWorkflow(InstantNotificationWorkflow):
    """Sets at start the search attributes its start carried: a command more, unguarded."""

    @workflow.run
    async def run(self, order: NotificationInput) -> NotificationResult:
        return await super().run(order)

    def _publish_search_attributes(self) -> None:
        _publish_again(self)


@workflow.defn(name="InstantNotificationWorkflow")
class PatchedChangeWorkflow(InstantNotificationWorkflow):
    """The same change behind `workflow.patched`: runs recorded before it keep the old path."""

    @workflow.run
    async def run(self, order: NotificationInput) -> NotificationResult:
        return await super().run(order)

    def _publish_search_attributes(self) -> None:
        if workflow.patched(PATCH):
            _publish_again(self)
        else:
            super()._publish_search_attributes()
