"""The package's import graph keeps its layers: cli -> services -> core / api, and no cycle.

Read from the source (every import, function-local ones included, except those only for
type checking), so a rule holds even where an import is deferred for start-up time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import aircall_ext

PACKAGE = Path(aircall_ext.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def imported(path: Path) -> set[str]:
    """The names a module imports at run time: modules, and ``module.name`` for each from-import."""
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def package_imports(name: str) -> set[str]:
    """The package's modules that ``name`` imports (a package's own parents excluded: Python
    imports them first anyway)."""
    found = set()
    for imported_name in imported(MODULES[name]):
        while imported_name and imported_name not in MODULES:
            imported_name = imported_name.rpartition(".")[0]
        if imported_name and not name.startswith(f"{imported_name}."):
            found.add(imported_name)
    found.discard(name)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def test_no_import_cycle() -> None:
    graph = {name: package_imports(name) for name in MODULES}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


BELOW_THE_CLI = sorted(
    n for n in MODULES if _within(n, ("aircall_ext.services", "aircall_ext.core"))
)


@pytest.mark.parametrize("name", BELOW_THE_CLI)
def test_services_and_core_never_import_the_output_layer_or_click(name: str) -> None:
    """The CLI passes ``log``/``warn`` callables in, so a service runs without a terminal."""
    forbidden = ("aircall_ext.output", "aircall_ext.cli", "click")
    assert sorted(n for n in imported(MODULES[name]) if _within(n, forbidden)) == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _within(n, ("aircall_ext.core",))))
def test_core_does_no_io_through_the_package(name: str) -> None:
    """Core decides on snapshots: it never reaches the client, the services, files or config."""
    forbidden = (
        "aircall_ext.api.client",
        "aircall_ext.services",
        "aircall_ext.sandbox",
        "aircall_ext.config",
        "aircall_ext.credentials",
        "aircall_ext.files",
        "httpx",
    )
    assert (
        sorted(n for n in package_imports(name) | imported(MODULES[name]) if _within(n, forbidden))
        == []
    )


def test_only_the_sandbox_command_and_the_in_process_transport_import_the_sandbox() -> None:
    users = {
        name
        for name in MODULES
        if not _within(name, ("aircall_ext.sandbox",))
        and any(_within(n, ("aircall_ext.sandbox",)) for n in package_imports(name))
    }
    assert users == {"aircall_ext.cli.sandbox", "aircall_ext.services.session"}


SHARED_CLI = ("aircall_ext.cli.context", "aircall_ext.cli.render", "aircall_ext.cli.completers")
COMMAND_MODULES = sorted(
    n for n in MODULES if n.startswith("aircall_ext.cli.") and n not in SHARED_CLI
)


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_commands_share_helpers_through_the_shared_cli_modules_only(name: str) -> None:
    """What two commands both need lives in context, render or completers, never in one of
    the commands' modules."""
    others = {n for n in package_imports(name) if n in COMMAND_MODULES}
    assert others == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _within(n, ("aircall_ext.cli",))))
def test_the_cli_handles_no_signal(name: str) -> None:
    """Stopping a job on a signal is the job's own (``services/stopsignals.py``), so it
    stops the same way however it is run."""
    assert not any(_within(n, ("signal",)) for n in imported(MODULES[name]))


# What a command module may not call: the terminal is the app context's (cli/context.py:
# emit, out, say, warn, error, prompt, progress_bar, step_summary, exit), so -q, the
# output format and the streams are decided in one place.
TERMINAL_CALLS = {
    "click.echo",
    "click.secho",
    "click.prompt",
    "click.confirm",
    "output.status",
    "output.warn",
    "output.Progress",
    "print",
    "sys.exit",
    "sys.stdout.write",
    "sys.stderr.write",
}
TERMINAL_OWNERS = ("aircall_ext.cli", "aircall_ext.cli.context")


def _terminal_calls(path: Path) -> list[str]:
    """``name:line`` of each call a command module makes to the terminal itself; an
    ``exit`` counts unless it is the app context's (``app.exit``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        exits = name.endswith(".exit") and not name.endswith("app.exit")
        if name in TERMINAL_CALLS or exits:
            found.append(f"{name}:{node.lineno}")
    return found


@pytest.mark.parametrize(
    "name",
    sorted(n for n in MODULES if _within(n, ("aircall_ext.cli",)) and n not in TERMINAL_OWNERS),
)
def test_commands_reach_the_terminal_through_the_app_context_only(name: str) -> None:
    assert _terminal_calls(MODULES[name]) == []
