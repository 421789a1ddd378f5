"""A mail relayed to the DSN route, as it is kept when it decides nothing (a dead report): its
headers and its delivery-status fields, without any text that may quote one of our messages.

The sender's mailbox gets more than DSNs: out-of-office replies, people answering a code, a
server's bounce with the whole message. Each may quote a code, in a body or in a subject, and
the store keeps no message's content anywhere else.
"""

import email
import re
from email.message import Message

LEFT_OUT = "[left out]"
# `smtp; 550 5.7.1 …`: the diagnostic's type, the reply code and the enhanced status code.
_DIAGNOSTIC_CODES = re.compile(r"[\w-]+;\s*(?:\d{3}(?:[ -]\d\.\d{1,3}\.\d{1,3})?)?")


def outline(mail: Message) -> bytes:
    return "\n".join(_message(mail)).encode()


def _message(message: Message) -> list[str]:
    return [*_headers(message), "", *_parts(message)]


def _parts(part: Message) -> list[str]:
    kind = part.get_content_type()
    payload = part.get_payload()
    inner = (
        [sub for sub in payload if isinstance(sub, Message)] if isinstance(payload, list) else []
    )
    if kind == "message/delivery-status":
        return [f"[{kind}]", *(line for block in inner for line in [*_headers(block), ""])]
    if kind == "message/rfc822" and inner:
        return [f"[{kind}]", *_message(inner[0])]
    if kind == "text/rfc822-headers":
        text = _content(part).decode("utf-8", "replace")
        return [f"[{kind}]", *_headers(email.message_from_string(text)), ""]
    if isinstance(payload, list):
        return [line for sub in inner for line in _parts(sub)]
    return [f"[{kind}: {len(_content(part))} bytes left out]"]


def _content(part: Message) -> bytes:
    """The part's content, its transfer encoding undone."""
    content = part.get_payload(decode=True)
    return content if isinstance(content, bytes) else b""


def _headers(message: Message) -> list[str]:
    """A message's headers, or a delivery-status block's fields, as kept."""
    return [
        f"{name}: {_kept(name, ' '.join(str(value).split()))}" for name, value in message.items()
    ]


def _kept(name: str, value: str) -> str:
    """Nothing of a subject; of a `Diagnostic-Code` only its type and the server's codes: its
    text is the server's, and a content filter's may quote the message it refused."""
    if _copies_subject(name):
        return LEFT_OUT
    if name.lower() != "diagnostic-code":
        return value
    found = _DIAGNOSTIC_CODES.match(value)
    return f"{found.group(0).strip() if found else ''} {LEFT_OUT}".strip()


def _copies_subject(name: str) -> bool:
    """The subject, and the headers that copy it: `X-Original-Subject`, Exchange's topic."""
    lowered = name.lower()
    return "subject" in lowered or lowered == "thread-topic"
