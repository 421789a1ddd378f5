"""The plain-text alternative of an HTML email body: what a text-only reader, a lock screen's
preview or a screen reader shows of it, and the part spam filters expect beside the HTML."""

import re
from html.parser import HTMLParser

from domain.orders import ContentType

# Elements on lines of their own, and of those the ones set apart by a blank line.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main"),
        *("nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul"),
        *("h1", "h2", "h3", "h4", "h5", "h6"),
    }
)
_PARAGRAPHS = frozenset(
    {"blockquote", "ol", "p", "pre", "table", "ul", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# Elements whose content is never shown. Not <head> itself: a browser ends it at the first
# text or <body>, closed or not, and its other elements hold no text.
_HIDDEN = frozenset({"script", "style", "template", "title"})
_SPACES = re.compile(r"[ \t\n\r\f]+")
# A link's address is written after its text, unless it tells a reader nothing more.
_UNSHOWN = ("#", "javascript:", "data:")


def alternatives(body: str, content_type: ContentType) -> tuple[str, str | None]:
    """What an email's body is sent as: its plain text (made from an HTML body; empty where
    that holds no text) and its HTML (None for a plain body)."""
    if content_type is not ContentType.HTML:
        return body, None
    return plain_text(body), body


def plain_text(html: str) -> str:
    """The text of `html`: blocks on lines of their own, a blank line after a paragraph, list
    items marked "- " or numbered, a link's address after its text, an image's alt text."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.text()


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._line: list[str] = []  # the current line's pieces: joined once, when it ends
        self._breaks = 0  # line ends owed before the next text: 2 leaves a blank line
        self._hidden = 0
        self._pre = 0
        self._link: tuple[str, list[str]] | None = None  # the open link's address and text
        self._lists: list[int] = []  # each open list: the last number given, -1 for bullets

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._line_break()
        elif tag in _BLOCKS:
            self._block(tag)
            if tag == "pre":
                self._pre += 1
            elif tag in ("ul", "ol"):
                self._lists.append(-1 if tag == "ul" else _start(attributes.get("start")) - 1)
            elif tag == "li":
                self._write(self._marker())
        elif tag in ("td", "th") and self._line:
            self._write(" ")
        elif tag == "img":
            self._write(_SPACES.sub(" ", attributes.get("alt") or ""))
        elif tag == "a":
            # A link inside a link closes the first, as in a browser.
            self._end_link()
            self._link = ((attributes.get("href") or "").strip(), [])

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)
            elif tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            self._block(tag)
        elif tag == "a":
            self._end_link()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            self._write(_SPACES.sub(" ", data))
            return
        first, *rest = data.split("\n")
        self._write(first, verbatim=True)
        for line in rest:
            self._line_break()
            self._write(line, verbatim=True)

    def close(self) -> None:
        super().close()
        self._end_link()

    def text(self) -> str:
        text = "\n".join([*self._lines, _joined(self._line)]).strip("\n")
        return re.sub(r"\n{3,}", "\n\n", text)

    def _write(self, text: str, *, verbatim: bool = False) -> None:
        if not verbatim and (self._breaks or not self._line or self._line[-1].endswith(" ")):
            # Spaces collapse across elements too, and none starts a line.
            text = text.lstrip(" ")
        if not text:
            return
        if self._breaks:
            self._end_line()
        self._line.append(text)
        if self._link is not None:
            self._link[1].append(text)

    def _marker(self) -> str:
        """ "- " in a bulleted list (or none), "1. ", "2. " … in a numbered one."""
        if not self._lists or self._lists[-1] < 0:
            return "- "
        self._lists[-1] += 1
        return f"{self._lists[-1]}. "

    def _end_link(self) -> None:
        if self._link is None:
            return
        (href, text), self._link = self._link, None
        shown = "".join(text).strip()
        if not href or href.startswith(_UNSHOWN) or href.removeprefix("mailto:") == shown:
            return
        if not shown:
            self._write(href)
        elif self._line and self._line[-1].endswith(" "):
            self._write(f"({href}) ")  # "<a>code </a>": the space goes after the address
        else:
            self._write(f" ({href})")

    def _block(self, tag: str) -> None:
        """Blocks that meet leave one line end, or one blank line, between them, as in a
        browser (a list in a list item has no blank lines); nothing before the first text."""
        nested_list = tag in ("ul", "ol") and bool(self._lists)
        if self._line or self._lines:
            paragraph = tag in _PARAGRAPHS and not nested_list
            self._breaks = max(self._breaks, 2 if paragraph else 1)

    def _line_break(self) -> None:
        """A <br>: each one counts."""
        if self._breaks:
            self._end_line()
        self._breaks = 1

    def _end_line(self) -> None:
        self._lines.append(_joined(self._line))
        self._lines.extend([""] * (self._breaks - 1))
        self._line, self._breaks = [], 0


def _joined(pieces: list[str]) -> str:
    """A line's text; none for a line of spaces alone, no-break spaces included (a layout
    table's spacer cells, `<td>&nbsp;</td>`)."""
    line = "".join(pieces).rstrip(" ")
    return line if line.strip() else ""


def _start(value: str | None) -> int:
    """An <ol>'s first number (its `start`), 1 where it names none or no number."""
    try:
        return int(value or 1)
    except ValueError:
        return 1
