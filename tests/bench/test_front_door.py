"""The floor behind a front door: orders and their reports over real HTTP, through a uvicorn
process of its own, reach the floor's workflows as the floor's own caller's do."""

import asyncio
import uuid

from temporalio.testing import WorkflowEnvironment

from bench import caller, engine, front_door
from devstack.processes import ProcessGroup, free_port


async def test_orders_and_their_reports_pass_through_the_front_door(
    temporal_env: WorkflowEnvironment,
) -> None:
    client = temporal_env.client
    address = client.service_client.config.target_host
    queue = f"front-door-{uuid.uuid4().hex[:8]}"
    port = free_port()
    group = ProcessGroup(echo=False)
    door = await group.start(front_door.service(address, queue, port))
    try:
        async with engine.floor_worker(client, queue), caller.session() as http:
            through = front_door.target(http, front_door.url(port), {"door": door.pid}, client)
            answered = [await through.send(n) for n in range(3)]
            await through.settle()
            ids = [w.id async for w in client.list_workflows(f'TaskQueue="{queue}"')]
            # Without its report a workflow would wait out its TTL (two days).
            async with asyncio.timeout(30):
                results = [await client.get_workflow_handle(i).result() for i in ids]
    finally:
        await group.stop_all()

    assert set(answered) == set(ids)  # each order answered with its own workflow's ID
    assert len(ids) == 3
    # Each report, posted to the front door after the answer, reached its workflow.
    assert [result["reported"] for result in results] == [True, True, True]
