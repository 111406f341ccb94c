"""Services and core never import the output layer or Click: the CLI passes ``log``/``warn``
callables in, so a service can run (and be tested) without a terminal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aircall_ext

PACKAGE = Path(aircall_ext.__file__).parent
MODULES = sorted([*PACKAGE.glob("services/*.py"), *PACKAGE.glob("core/*.py")])
FORBIDDEN = ("aircall_ext.output", "aircall_ext.cli", "click")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_output_layer_below_the_cli(path: Path) -> None:
    bad = [
        name
        for name in imported(path)
        if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN)
    ]
    assert bad == [], f"{path.name} imports {bad}"
