"""constraints.txt: every install (make, the image) takes the versions the suite passed with."""

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def pinned() -> list[Requirement]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def pins() -> dict[str, Version]:
    return {
        canonicalize_name(pin.name): Version(str(pin.specifier).removeprefix("=="))
        for pin in pinned()
    }


def requirements(*extras: str) -> list[Requirement]:
    """The project's requirements with those of `extras`; of every extra when none is named."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    lines = [*project["dependencies"], *(line for e in extras or optional for line in optional[e])]
    return [Requirement(line) for line in lines]


def test_every_line_pins_one_version() -> None:
    lines = pinned()

    # A URL or a path (a local or editable install at the time of the lock) would pin nothing.
    assert all(str(pin.specifier).startswith("==") for pin in lines)
    assert len(pins()) == len(lines)


def test_every_requirement_is_pinned_within_what_pyproject_allows() -> None:
    versions = pins()
    for requirement in requirements():
        version = versions.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(version), f"{requirement} excludes {version}"


def test_this_environment_has_the_pinned_versions() -> None:
    """`make` installs with the constraints: what runs the suite is what they name."""
    installed: dict[str, Version] = {
        canonicalize_name(dist.metadata["Name"]): Version(dist.version)
        for dist in metadata.distributions()
    }
    # `make test` installs the dev extra; the bench extra only `make bench`.
    needed = {canonicalize_name(requirement.name) for requirement in requirements("dev")}
    differ = {
        name: (installed[name], version)
        for name, version in pins().items()
        if name in installed and installed[name] != version
    }

    assert differ == {}
    assert needed <= installed.keys()
