"""The package metadata users and PyPI read, as installed (built by maturin from pyproject.toml)."""

from __future__ import annotations

import re
from importlib.metadata import metadata, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_expression_and_files() -> None:
    meta = metadata("anclax-fast")
    assert meta["License-Expression"] == "MIT OR Apache-2.0"
    assert sorted(meta.get_all("License-File") or []) == ["LICENSE-APACHE", "LICENSE-MIT"]
    for name in ("LICENSE-APACHE", "LICENSE-MIT"):
        assert (ROOT / name).is_file()


def test_project_urls_and_python_versions() -> None:
    meta = metadata("anclax-fast")
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)} <= set(classifiers)


def test_every_extra_is_documented() -> None:
    extras = metadata("anclax-fast").get_all("Provides-Extra") or []
    assert extras
    readme = (ROOT / "README.md").read_text()
    dependencies = (ROOT / "docs/dependencies.md").read_text()
    for extra in extras:
        assert f"anclax-fast[{extra}]" in readme, f"README's install section does not mention the [{extra}] extra"
        assert f"`{extra}` extra" in dependencies, f"docs/dependencies.md does not say why the [{extra}] extra exists"


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(version('anclax-fast'))}\]", changelog, re.M)
