"""The package layout: every package folder is listed in pyproject.toml; no click in the library."""

from __future__ import annotations

import ast
import tomllib

from conftest import REPO


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "keyguard").rglob("__init__.py")}
    found |= {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "cli").rglob("__init__.py")}
    found.add("keyguard.firmware_profiles")
    assert found - listed == set(), "add these to [tool.setuptools] packages"


def test_library_never_imports_click():
    for path in (REPO / "keyguard").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "click" or n.startswith("click.") for n in names), path
