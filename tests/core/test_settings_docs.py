"""docs/settings.md documents exactly the fields of Settings and of each provider's settings
section (under its prefix), with their real defaults."""

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.settings import variables

SETTINGS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
HEADER = ["variable", "default", "meaning"]
EMPTY = "empty"
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
_LITERALS = re.compile(r"`([^`]*)`(?:, `([^`]*)`)*")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Row:
    names: list[str]
    default: str


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in _CELL_SEPARATOR.split(line.strip().strip("|"))]


def table(text: str) -> list[Row]:
    """The rows of the page's `| variable | default | meaning |` table."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if cells(line) == HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first, default, _meaning = cells(line)
        rows.append(Row(_NAME.findall(first), default))
    return rows


def literals(default: str) -> list[str] | None:
    """The defaults a cell states as literals (`a`, `b` or `empty`), or None for words."""
    if default == EMPTY:
        return [""]
    if not _LITERALS.fullmatch(default):
        return None
    return re.findall(r"`([^`]*)`", default)


def same(documented: str, actual: object) -> bool:
    if isinstance(actual, list):
        return documented == ",".join(map(str, actual))
    if isinstance(actual, bool):
        return documented.lower() == str(actual).lower()
    if isinstance(actual, int | float):
        try:
            return float(documented) == float(actual)
        except ValueError:
            return False
    return documented == str(actual)


def documented_rows() -> list[Row]:
    return table(SETTINGS_PAGE.read_text(encoding="utf-8"))


def test_every_setting_has_exactly_one_row() -> None:
    names = [name for row in documented_rows() for name in row.names]
    fields = set(variables())

    undocumented, unknown = sorted(fields - set(names)), sorted(set(names) - fields)
    assert set(names) == fields, f"without a row: {undocumented}; not a setting: {unknown}"
    assert len(names) == len(fields), "a variable has more than one row"


def test_documented_defaults_are_the_real_ones() -> None:
    known = variables()
    wrong = []
    for row in documented_rows():
        stated = literals(row.default)
        if stated is None:
            wrong += [n for n in row.names if not known[n].may_use_words()]
            continue
        if len(stated) not in (1, len(row.names)):
            wrong.append(f"{row.names}: {len(stated)} defaults")
            continue
        values = stated if len(stated) == len(row.names) else stated * len(row.names)
        for name, value in zip(row.names, values, strict=True):
            if not same(value, known[name].default()):
                wrong.append(f"{name}: documented {value!r}, really {known[name].default()!r}")

    assert not wrong, "\n".join(wrong)


def test_the_parser_reads_rows_of_several_names_and_defaults() -> None:
    rows = table(
        "| variable | default | meaning |\n|---|---|---|\n"
        "| `API_HOST`, `API_PORT` | `127.0.0.1`, `8000` | where |\n"
        "| `SMTP_USERNAME` | empty | who |\n\n| `NOT_IN_TABLE` | `1` | after |\n"
    )

    assert rows == [
        Row(["API_HOST", "API_PORT"], "`127.0.0.1`, `8000`"),
        Row(["SMTP_USERNAME"], "empty"),
    ]
    assert literals(rows[0].default) == ["127.0.0.1", "8000"]
    assert literals("`text`; `json` when production") is None
    assert same("10", 10.0)
    assert not same("10", 11)
    assert not same("x", 1)
    assert same("a,b", ["a", "b"])
    assert same("", [])


def test_provider_sections_are_read_under_their_prefix() -> None:
    assert {"TWILIO_AUTH_TOKEN", "SIMULATOR2_URL", "SMTP_REPORT_SECRET"} <= set(variables())
    assert variables()["SMTP_PORT"].default() == 587
