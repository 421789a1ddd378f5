"""InstantNotificationWorkflow changed twice over, with and without `workflow.patched`, and
WebhookRetryWorkflow changed without it."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.orders import NotificationInput, NotificationResult
    from domain.webhooks import DeliveryRequest, EventResult
    from workflows import search_attributes
    from workflows.instant_notification import InstantNotificationWorkflow
    from workflows.webhook_event import WebhookRetryWorkflow, deliver

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


@workflow.defn(name="WebhookRetryWorkflow")
class UnguardedRetryChangeWorkflow(WebhookRetryWorkflow):
    """Retries at once, without waiting first: a timer fewer, unguarded."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> EventResult:
        return EventResult(outcomes=[await deliver(request)])
