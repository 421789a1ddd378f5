"""A real Postfix for the tests: configured in a temporary directory and started on a free port
of the loopback interface, as a private relay often is (DSN advertised, no STARTTLS, no AUTH).

It takes mail for two domains into Maildirs: the recipients' (`example.no`) and the senders'
(`sender.test`), where Postfix's own delivery status notifications arrive. `make test` installs
Postfix from the OS packages where it is missing (scripts/test-postfix.sh)."""

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from devstack.processes import free_port
from tests.support.machine import installed

RECIPIENTS, SENDERS = "example.no", "sender.test"
NOBODY = 65534  # the virtual delivery agent writes the Maildirs as this user
_SERVICES = """\
{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@dataclass(frozen=True)
class Postfix:
    port: int
    root: Path

    def mailbox(self, domain: str) -> list[Message]:
        """The messages delivered to a domain's Maildir, oldest first."""
        folder = self.root / "mail" / domain / "new"
        files = sorted(folder.iterdir(), key=lambda f: f.stat().st_mtime) if folder.exists() else []
        return [message_from_bytes(f.read_bytes()) for f in files]

    def log(self) -> str:
        log = self.root / "maillog"
        return log.read_text(errors="replace") if log.exists() else ""


def postfix_binary() -> str:
    """Postfix where the machine has it; the tests that need it fail in CI without it."""
    return installed("postfix", "Postfix", "Postfix")


@contextlib.asynccontextmanager
async def running_postfix() -> AsyncIterator[Postfix]:
    binary = postfix_binary()
    with _directory() as root:
        postfix = Postfix(free_port(), root)
        _configure(postfix)
        await _postfix(binary, root, "start")
        try:
            await _listening(postfix)
            yield postfix
        finally:
            await _postfix(binary, root, "abort")


def _configure(postfix: Postfix) -> None:
    root = postfix.root
    for name in ("conf", "queue", "data", "mail"):
        (root / name).mkdir()
    shutil.chown(root / "data", "postfix")
    os.chown(root / "mail", NOBODY, NOBODY)
    settings = {
        "compatibility_level": "3.6",
        "config_directory": root / "conf",
        "queue_directory": root / "queue",
        "data_directory": root / "data",
        "maillog_file": root / "maillog",
        "maillog_file_prefixes": root,
        "myhostname": "postfix.test",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mydestination": "",
        "mynetworks": "127.0.0.0/8",
        # It takes mail for its two domains only, even from this machine: no open relay.
        "smtpd_relay_restrictions": "reject_unauth_destination",
        "smtpd_tls_security_level": "none",
        "smtpd_sasl_auth_enable": "no",
        "disable_dns_lookups": "yes",
        "virtual_mailbox_domains": f"{RECIPIENTS}, {SENDERS}",
        "virtual_mailbox_base": root / "mail",
        "virtual_mailbox_maps": f"inline:{{ {{@{RECIPIENTS}={RECIPIENTS}/}}, "
        f"{{@{SENDERS}={SENDERS}/}} }}",
        "virtual_uid_maps": f"static:{NOBODY}",
        "virtual_gid_maps": f"static:{NOBODY}",
        "alias_maps": "",
        "alias_database": "",
    }
    lines = [f"{name} = {value}" for name, value in settings.items()]
    (root / "conf" / "main.cf").write_text("\n".join(lines) + "\n")
    (root / "conf" / "master.cf").write_text(_SERVICES.format(port=f"127.0.0.1:{postfix.port}"))


@contextlib.contextmanager
def _directory() -> Iterator[Path]:
    """Under /tmp, readable on the way down: Postfix's own users must reach it."""
    root = Path(tempfile.mkdtemp(prefix="postfix-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _postfix(binary: str, root: Path, command: str) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [binary, "-c", str(root / "conf"), command],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0 and command == "start":
        log = (root / "maillog").read_text() if (root / "maillog").exists() else ""
        raise RuntimeError(f"postfix did not start: {done.stderr}{log}")


async def _listening(postfix: Postfix, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", postfix.port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"postfix is not listening: {postfix.log()}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
