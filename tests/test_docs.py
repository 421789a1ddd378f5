"""The README and docs/ point at things that exist: files, headings, code paths and tests."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

_FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A path in a code span, optionally naming a test in it: `tests/x/test_y.py::test_z`.
_CODE_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]*)(?:::(\w+))?`")
# Folders that are made locally, not kept in the repository.
_LOCAL = {".venv", ".data", ".git"}


def prose(page: Path) -> str:
    """The page without its fenced code blocks, whose `#` lines and brackets are not markdown."""
    return _FENCED.sub("", page.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: link text kept, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(prose(page)):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def links(page: Path) -> list[str]:
    return _LINK.findall(_CODE_SPAN.sub("", prose(page)))


def broken_link(page: Path, target: str) -> str | None:
    """Why a relative link does not resolve, or None when it does."""
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if not file.exists():
        return f"{target}: no file {file}"
    if ROOT not in file.parents and file != ROOT:
        return f"{target}: outside the repository"
    if anchor and (file.suffix != ".md" or anchor not in anchors(file)):
        return f"{target}: no heading #{anchor} in {file.name}"
    return None


def code_paths(page: Path) -> list[tuple[str, str | None]]:
    """Paths in code spans that start in a folder of the repository."""
    named = []
    for path, test in _CODE_PATH.findall(prose(page)):
        first = path.split("/", 1)[0]
        if first not in _LOCAL and (ROOT / first).is_dir():
            named.append((path, test or None))
    return named


def missing(path: str, test: str | None) -> str | None:
    file = ROOT / path
    if not file.exists():
        return f"{path}: no such file or folder"
    if test and not re.search(rf"^\s*(async\s+)?def {test}\b", file.read_text(), re.MULTILINE):
        return f"{path}::{test}: no such test"
    return None


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    relative = [t for t in links(page) if not _SCHEME.match(t)]

    broken = [reason for t in relative if (reason := broken_link(page, t)) is not None]

    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_code_path_named_exists(page: Path) -> None:
    named = code_paths(page)

    absent = [reason for path, test in named if (reason := missing(path, test)) is not None]

    assert not absent, "\n".join(absent)


def test_the_readme_names_the_code_and_links_every_docs_page() -> None:
    readme = ROOT / "README.md"
    targets = [t.partition("#")[0] for t in links(readme) if t.startswith("docs/")]
    linked = {(ROOT / target).resolve() for target in targets}

    assert {path for path, _ in code_paths(readme)} >= {"api/ordering.py", "domain/ids.py"}
    assert set(DOCS.glob("*.md")) <= linked


def test_anchors_follow_githubs_rules() -> None:
    assert slug("Where we differ from Altinn") == "where-we-differ-from-altinn"
    assert slug("Azure Communication Services (email)") == "azure-communication-services-email"
    assert slug("`make bench` and the [floor](x.md)") == "make-bench-and-the-floor"
    assert slug("What runs, and what holds state") == "what-runs-and-what-holds-state"


# Packages whose modules the development page names one by one; the others it names as a folder.
_MODULE_BY_MODULE = (
    "activities",
    "api",
    "core",
    "domain",
    "gateways",
    "store",
    "webhooks",
    "workflows",
)


def test_the_development_page_names_every_module() -> None:
    table = (DOCS / "development.md").read_text(encoding="utf-8")
    modules = [
        path.relative_to(ROOT).as_posix()
        for package in _MODULE_BY_MODULE
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "__init__.py" and "migrations" not in path.parts
    ]
    assert [m for m in modules if f"`{m}`" not in table] == []
