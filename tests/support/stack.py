"""The running stack as tests reach it: its settings, clients, store and, for the fault tests,
its processes."""

import contextlib
import os
import signal
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.envconfig import ClientConfigProfile

from core.config import Settings
from devstack.processes import ProcessGroup
from devstack.token import auth_headers
from domain.ids import workflow_id
from domain.orders import NotificationResult
from tests.support.bodies import new_org
from workflows.instant_notification import InstantNotificationWorkflow

# Deadlines short enough that failed handovers and expiries end within a test's patience.
SHORT_TIMINGS = {
    "handover_deadline_seconds": 4.0,
    "gateway_timeout_seconds": 2.5,
    "ttl_grace_seconds": 1,
}
# One provider per channel, whose circuit never opens: a magic recipient that makes the simulator
# answer 503 must not make the next tests skip it. Failover and circuits have tests of their own.
ONE_PROVIDER = {
    "sms_providers": ["simulator"],
    "email_providers": ["simulator"],
    "provider_failure_threshold": 1_000_000,
}


@dataclass
class Tenant:
    org: str
    headers: dict[str, str]


@dataclass
class Stack:
    settings: Settings
    client: Client
    engine: Engine
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient
    # The Temporal connection every client and process of the stack uses.
    connection: ClientConfigProfile

    def headers(self, org: str, scope: str | None = None) -> dict[str, str]:
        return auth_headers(self.settings, org, scope)

    def tenant(self, org: str | None = None) -> Tenant:
        """A tenant with a token of its own; a fresh one unless `org` is given."""
        org = org or new_org()
        return Tenant(org=org, headers=self.headers(org))

    def workflow(
        self, org: str, key: str
    ) -> WorkflowHandle[InstantNotificationWorkflow, NotificationResult]:
        """The workflow of a tenant's order."""
        return self.client.get_workflow_handle_for(
            InstantNotificationWorkflow.run, workflow_id(org, key)
        )


@dataclass
class FaultStack(Stack):
    """A stack of processes (devstack.services.start_stack) that tests kill, stop and restart."""

    group: ProcessGroup

    async def kill(self, name: str) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crash would."""
        process = self.group.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    async def stop(self, name: str) -> None:
        await self.group.stop(name)

    async def start(self, name: str) -> None:
        await self.group.start(self.group.services[name])

    async def ensure_running(self) -> None:
        """Start, in the stack's order, every service that is not running."""
        for name in self.group.services:
            process = self.group.processes.get(name)
            if process is None or process.returncode is not None:
                await self.start(name)
