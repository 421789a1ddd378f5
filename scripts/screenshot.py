"""The README's picture of a shipment traced in the Temporal UI: `make screenshot`.

Starts a throwaway stack on free ports with the Temporal UI, sends the README's SMS
(`login-4711`, tenant `ttd`) through the API, waits for its delivery report, opens the UI's
page of workflow `instant/ttd/login-4711` in headless Chromium and saves
docs/images/shipment-in-temporal-ui.png.

It needs Debian's Chromium, and pngquant to keep the picture small, and installs both where
they are missing (`apt-get install -y chromium pngquant`, which takes root; elsewhere install
those packages first).
"""

import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx

from core.logs import configure_logging
from devstack.scratch import scratch_settings, scratch_stack
from devstack.token import auth_headers
from domain.ids import workflow_id

log = logging.getLogger("screenshot")

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "shipment-in-temporal-ui.png"
BASE = "/notifications/api/v1"
ORG = "ttd"
KEY = "login-4711"
ORDER = {
    "idempotencyId": KEY,
    "sendersReference": "case-1",
    "recipientSms": {
        "phoneNumber": "+4791234567",
        "timeToLiveInSeconds": 300,
        "smsSettings": {"sender": "MyService", "body": "Your code is 123456"},
    },
}
# Flags for a machine without a display or network beyond loopback: no sandbox (root), no GPU,
# none of Chromium's own background connections.
_PNGQUANT_SKIPPED = 98  # the quantized picture would not have been smaller
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--window-size=1280,1400",
    # The UI is a single-page app: give its requests virtual time to finish before the shot.
    "--virtual-time-budget=20000",
]


def program(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    log.warning("installing Debian's %s", name)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", name], check=True)
    installed = shutil.which(name)
    if installed is None:
        raise RuntimeError(f"{name} is not installed")
    return installed


def shoot(url: str, picture: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                program("chromium"),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={picture}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    # A palette of 256 colours keeps the text sharp at a third of the size.
    quantize = [program("pngquant"), "--force", "--skip-if-larger", "--output", str(picture)]
    done = subprocess.run([*quantize, "256", str(picture)], check=False, timeout=60)
    if done.returncode not in (0, _PNGQUANT_SKIPPED):
        raise RuntimeError(f"pngquant failed with {done.returncode}")


async def main() -> int:
    configure_logging("WARNING")
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        settings = scratch_settings(Path(data))
        async with scratch_stack(settings, ui=True) as client:
            base = settings.api_url
            headers = auth_headers(settings, ORG)
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api:
                answer = await api.post(f"{BASE}/future/orders/instant/sms", json=ORDER)
                answer.raise_for_status()
            handle = client.get_workflow_handle(workflow_id(ORG, KEY))
            await handle.result()
            run_id = (await handle.describe()).run_id
            ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
            page = f"{ui}/namespaces/{settings.temporal_namespace}/workflows/"
            page += f"{quote(handle.id, safe='')}/{run_id}/history"
            await asyncio.to_thread(shoot, page, PICTURE)
    log.warning("saved %s", PICTURE)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
