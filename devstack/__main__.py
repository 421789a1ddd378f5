"""`make run`: the Temporal dev server, the simulator, the worker and the API, one log stream."""

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from core.config import get_settings
from core.logs import configure_logging
from devstack import services
from devstack.local import local_connection, local_settings
from devstack.processes import ProcessGroup
from devstack.token import mint_token

log = logging.getLogger("devstack")


def banner(api: str, ui: str, simulators: list[str], token: str) -> str:
    sms = (
        '{"idempotencyId":"demo-1","recipientSms":{"phoneNumber":"+4799999999",'
        '"timeToLiveInSeconds":300,"smsSettings":{"body":"Your code is 123456"}}}'
    )
    return f"""
  Instant notifications is running.

    API          {api}/docs
    Temporal UI  {ui}  (decodes through {api}/codec: bodies redacted)
    Inboxes      {"  ".join(f"{url}/" for url in simulators)}

  Development token (org ttd, 12 h):
    export TOKEN={token}

  Optionally, push shipment events to the inbox (subscribe it, hand it the secret):
    curl -s -X POST {api}/notifications/api/v1/future/webhooks \\
      -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
      -d '{{"url": "{simulators[0]}/webhooks"}}' \\
      | curl -s -X POST {simulators[0]}/webhooks/secrets -H "Content-Type: application/json" -d @-

  Send an SMS:
    curl -i -X POST {api}/notifications/api/v1/future/orders/instant/sms \\
      -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
      -d '{sms}'

  Ctrl-C stops everything.
"""


async def main() -> int:
    configure_logging(get_settings().log_level)
    settings = local_settings(get_settings())
    connection = local_connection()
    group = ProcessGroup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    Path(settings.temporal_db_file).parent.mkdir(parents=True, exist_ok=True)
    try:
        await services.start_stack(group, settings, connection, db_file=settings.temporal_db_file)
    except RuntimeError as exc:
        log.error("the stack did not start: %s", exc)
        await group.stop_all()
        return 1
    api = settings.api_url
    ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
    token = mint_token(settings.auth_jwt_secret, "ttd", settings.auth_scope)
    inboxes = [getattr(settings, name).url for name in services.simulators_in_use(settings)]
    sys.stdout.write(banner(api, ui, inboxes, token))
    exited = asyncio.create_task(group.first_exit())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if exited.done():
        log.error("%s exited; stopping the stack", exited.result())
        code = 1
    for task in (exited, stopped):
        task.cancel()
    with contextlib.suppress(Exception):
        await group.stop_all()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
