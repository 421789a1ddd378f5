"""A workflow's history as Temporal stores it, and the payloads and failures in it."""

from collections.abc import Iterator
from typing import Any, TypeVar

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

# Search attributes are not payloads of the codec: Temporal indexes them, so they stay readable.
_INDEXED = "search_attributes"
T = TypeVar("T", bound=Message)


async def stored_history(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The events as stored: the SDK hands history over without decoding it."""
    return [event async for event in handle.fetch_history_events()]


async def history_so_far(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The stored events, or none while the workflow has not started."""
    try:
        return await stored_history(handle)
    except RPCError:
        return []


async def completed_history(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The stored events once the workflow has ended. The store shows a final status from
    inside the record's local activity, before the workflow task that writes its marker and
    the completion to the history."""
    await handle.result()
    return await stored_history(handle)


def attributes_of(events: list[HistoryEvent], kind: str) -> list[Any]:
    """The attributes of the events of one kind (`activity_task_scheduled`, `marker_recorded` …)."""
    name = f"{kind}_event_attributes"
    return [getattr(e, name) for e in events if e.WhichOneof("attributes") == name]


def payloads_in(events: list[HistoryEvent]) -> list[Payload]:
    return [found for event in events for found in _walk(event, Payload)]


def failures_in(events: list[HistoryEvent]) -> list[Failure]:
    return [found for event in events for found in _walk(event, Failure)]


def _walk(message: Message, kind: type[T]) -> Iterator[T]:
    if isinstance(message, kind):
        yield message
    for field, value in message.ListFields():
        if field.name == _INDEXED or field.message_type is None:
            continue
        if field.is_repeated:
            items = value.values() if field.message_type.GetOptions().map_entry else value
            for item in items:
                if isinstance(item, Message):
                    yield from _walk(item, kind)
        else:
            yield from _walk(value, kind)
