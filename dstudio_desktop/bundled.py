"""The third-party parts that ship with the designer's install, with their versions and licences.

Read from the installed distributions' metadata (``importlib.metadata``), so the list is what is
really there, in a virtual environment and in the frozen app alike (the PyInstaller spec copies
the metadata of exactly these distributions). Plain Python: the About dialog shows it, the spec
and tests read it.
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import re
from dataclasses import dataclass

APP_DISTRIBUTION = "dstudio-desktop"
APP_EXTRAS = ("desktop", "reconstruct")   # the designer's install: ".[app]"


@dataclass(frozen=True)
class Part:
    name: str
    version: str
    licence: str


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def licence_of(meta: md.PackageMetadata) -> str:
    """SPDX ``License-Expression`` when declared, else a one-line ``License``, else the trove classifiers."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    classifiers = [c.split(" :: ")[-1] for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    if classifiers:
        return ", ".join(dict.fromkeys(classifiers))
    if text:
        return text.splitlines()[0][:60] + ("…" if len(text) > 60 or "\n" in text else "")
    return "not declared (see the package)"


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?[^;]*(?:;(.*))?$")
_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _requirements(dist: md.Distribution, extras: tuple[str, ...]) -> list[str]:
    """The names ``dist`` requires with ``extras``. Markers other than ``extra`` are not judged:
    a requirement for another platform is simply not installed, and so not listed."""
    names = []
    for line in dist.requires or []:
        match = _REQUIREMENT.match(line)
        if match is None:
            continue
        name, wanted, marker = match.groups()
        needs = _EXTRA.findall(marker or "")
        if needs and not set(needs) & set(extras):
            continue
        names.append(name)
        # "dstudio-desktop[desktop,reconstruct]" (the app extra) names the app's own extras
        if _canonical(name) == _canonical(APP_DISTRIBUTION) and wanted:
            names.extend(f"{APP_DISTRIBUTION}[{e.strip()}]" for e in wanted.split(","))
    return names


def bundled_parts() -> list[Part]:
    """Every installed distribution the app depends on (its base and the app extras, followed
    through their own requirements), sorted by name; missing optional ones are left out."""
    seen: dict[str, Part] = {}
    queue = [APP_DISTRIBUTION]
    visited: set[str] = set()
    while queue:
        name = queue.pop()
        key = _canonical(name.split("[")[0])
        extras = APP_EXTRAS if key == _canonical(APP_DISTRIBUTION) else ()
        if key in visited:
            continue
        visited.add(key)
        try:
            dist = md.distribution(name.split("[")[0])
        except md.PackageNotFoundError:
            continue
        if key != _canonical(APP_DISTRIBUTION):
            seen[key] = Part(dist.metadata["Name"], dist.version, licence_of(dist.metadata))
        queue.extend(_requirements(dist, extras))
    parts = sorted(seen.values(), key=lambda p: p.name.lower())
    return [Part("Python", platform.python_version(), "PSF-2.0"), *parts]


def bundled_distribution_names() -> list[str]:
    """The distributions whose metadata a frozen build must carry for ``bundled_parts``."""
    return [APP_DISTRIBUTION, *(p.name for p in bundled_parts() if p.name != "Python")]
