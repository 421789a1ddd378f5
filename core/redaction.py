"""What the codec server shows of a decoded payload: everything but message bodies and subjects.

Redaction goes by field name at any depth of a JSON payload, so it covers the workflow input,
an activity's input and any later dataclass that carries a message the same way. A payload
that cannot be read as JSON is hidden whole: the codec fails closed.
"""

import html
import json
import re
from typing import Any

from temporalio.api.common.v1 import Payload

from core.codec import ENCODING as SEALED

JSON_ENCODINGS = frozenset({b"json/plain", b"json/protobuf"})
# Left alone: nothing to hide (null), or still sealed (a key this process does not hold).
OPAQUE_ENCODINGS = frozenset({b"binary/null", SEALED})
# `fingerprint` is a hash of the whole order, body included: plain where no key makes it (and
# in older orders), a six-digit code is found by hashing every candidate with the rest in view.
SECRET_FIELDS = frozenset({"body", "subject", "fingerprint"})
# A word with a digit in it, long enough to be a one-time code (or part of a link that is one);
# `_` separates words, as an encoded subject's spaces become `_`.
# It starts only where a word does and never gives back what it took (`*+`): linear in the
# text, where a pattern that backtracks takes seconds on a long word.
_WORD = r"[^\W\d_]*+\d[^\W_]*+"
_CODE_LIKE = re.compile(rf"(?<![^\W_]){_WORD}")
# Words with a digit in each, one separator apart: a code written in groups (`482 913`,
# `48-29-13`, `K7-X9Q`, a no-break space as .NET's Norwegian number format writes it), each
# group shorter than a code alone, however a provider spaced it when quoting it back (a
# no-break space as a space, `&nbsp;`, a dash, none).
_CODE_RUN = re.compile(rf"(?<![^\W_]){_WORD}(?:[\s./\u00a0\u202f-]{_WORD})*")
_MIN_CODE = 4
# A code of letters alone is written in capitals (`KQXZPT`): a whole word of them, that long.
_LETTERS = re.compile(rf"(?<![^\W_])[^\W\d_]{{{_MIN_CODE},}}+(?![^\W_])")


def redact(payload: Payload) -> Payload:
    encoding = payload.metadata.get("encoding", b"")
    if encoding in OPAQUE_ENCODINGS:
        return payload
    if encoding not in JSON_ENCODINGS:
        return _hidden(payload, f"{len(payload.data)} bytes of {encoding.decode(errors='replace')}")
    try:
        redacted, changed = _redacted(json.loads(payload.data))
    except (ValueError, RecursionError):
        return _hidden(payload, f"{len(payload.data)} bytes that are not JSON")
    if not changed:
        return payload
    # Escaped: JSON may carry half a surrogate pair (`\ud800`), which UTF-8 cannot.
    data = json.dumps(redacted, separators=(",", ":")).encode()
    return Payload(metadata=dict(payload.metadata), data=data)


def mask(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return f"[redacted: {len(value)} characters]"
    return "[redacted]"


def _redacted(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        changed = False
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key in SECRET_FIELDS and item is not None:
                result[key], changed = mask(item), True
                continue
            result[key], inner = _redacted(item)
            changed = changed or inner
        return result, changed
    if isinstance(value, list):
        items = [_redacted(item) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False


def _hidden(payload: Payload, what: str) -> Payload:
    metadata = {**dict(payload.metadata), "encoding": b"json/plain"}
    return Payload(metadata=metadata, data=json.dumps(f"[redacted: {what}]").encode())


def without_message(text: str, message: list[str]) -> str:
    """`text` (a provider's words) without the message's texts, nor any code-like word of
    them (with a digit, or in capitals), should it quote them: redaction by field name cannot
    see them there. Where a code hid behind HTML entities (a quote of an HTML body), the words
    come back with their entities as characters."""
    for part in message:
        if part.strip():
            text = text.replace(part, "[redacted: message]")
    words = {w for part in message for w in _CODE_LIKE.findall(part) if len(w) >= _MIN_CODE}
    # Found anywhere, not only as a whole word: a quote may be encoded or escaped around it.
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "[redacted]")
    # Capitals only as whole words, found as in the message: `SPAM` is also part of `SPAMHAUS`.
    capitals = {w for part in message for w in _LETTERS.findall(part) if w.isupper()}
    if capitals:
        text = _LETTERS.sub(lambda m: "[redacted]" if m[0] in capitals else m[0], text)
    unescaped = html.unescape(text)
    redacted = _without_respaced_codes(unescaped, message)
    return redacted if redacted != unescaped else text  # unchanged words keep their entities


def _without_respaced_codes(text: str, message: list[str]) -> str:
    """Any run of code-like words in `text` whose letters and digits hold a code of the
    message's, written with other separators (or none) than the message wrote it."""
    codes = {_alnum(run) for part in message for run in _CODE_RUN.findall(html.unescape(part))}
    codes = {code for code in codes if len(code) >= _MIN_CODE}

    def hidden(run: re.Match[str]) -> str:
        found = _alnum(run.group())
        return "[redacted]" if any(code in found for code in codes) else run.group()

    return _CODE_RUN.sub(hidden, text) if codes else text


def _alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).casefold()
