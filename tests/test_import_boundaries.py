"""Enforce the layering rules (who may import whom) by reading imports with ``ast``.

Each rule walks every ``.py`` file of one layer and rejects forbidden imports, naming file, line and module.
Imports anywhere in a file count, including ones inside functions or ``if TYPE_CHECKING:`` blocks: a
lazy or typing-only import is still a dependency. Relative imports stay inside their package and are
always allowed. A layer with no files yet has nothing to check and passes.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ImportRef:
    """One imported name found in a source file."""

    path: str  # file that holds the import, relative to the repo root
    line: int  # 1-based line number of the import statement
    module: str  # absolute dotted name; for ``from a.b import c`` this is ``a.b.c`` (c may be a submodule)


def imports_in_source(source: str, path: str = "<string>") -> list[ImportRef]:
    """Return every absolute import in ``source``; relative imports are internal and skipped."""
    refs: list[ImportRef] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            refs.extend(ImportRef(path, node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            refs.extend(ImportRef(path, node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return sorted(refs, key=lambda ref: ref.line)  # ast.walk is breadth-first; report in file order


def imports_in_package(package: str) -> Iterator[ImportRef]:
    """Yield the imports of every ``.py`` file under the top-level directory ``package``."""
    for file in sorted((ROOT / package).rglob("*.py")):
        yield from imports_in_source(file.read_text(encoding="utf-8"), str(file.relative_to(ROOT)))


def is_under(module: str, prefix: str) -> bool:
    """Tell whether ``module`` is ``prefix`` or lies inside it: ``net.server.x`` is under ``net.server``."""
    return module == prefix or module.startswith(prefix + ".")


def forbid(*prefixes: str) -> Callable[[str], bool]:
    """Build a check that rejects any module under one of ``prefixes``."""
    return lambda module: any(is_under(module, prefix) for prefix in prefixes)


ENGINE_ALLOWED = frozenset(sys.stdlib_module_names) | {"__future__", "engine"}


def engine_forbids(module: str) -> bool:
    """Reject anything outside the standard library and ``engine`` itself: the engine is pure."""
    return module.partition(".")[0] not in ENGINE_ALLOWED


@dataclass(frozen=True)
class Rule:
    """A layering rule: which imports one top-level package may not make."""

    package: str  # top-level directory the rule applies to
    reason: str  # shown on failure
    forbids: Callable[[str], bool]  # True if importing this dotted module name breaks the rule


RULES = [
    Rule("engine", "engine may import only the standard library and itself", engine_forbids),
    Rule(
        "actors",
        "actors never touch sockets, trio or the viewer",
        forbid("net", "viewer", "wsproto", "trio", "pygame", "simple_websocket"),
    ),
    Rule(
        "viewer",
        "viewer is just a client: wire types (net.protocol, net.codec) only",
        forbid("engine", "actors", "net.server", "net.bridge", "net.connection"),
    ),
    Rule("net", "net knows nothing of the viewer or pygame", forbid("viewer", "pygame")),
]
RULES_BY_PACKAGE = {rule.package: rule for rule in RULES}


def violations(rule: Rule, refs: Iterable[ImportRef]) -> list[str]:
    """Describe each import in ``refs`` that breaks ``rule`` as ``file:line imports module``."""
    return [f"{ref.path}:{ref.line} imports {ref.module}" for ref in refs if rule.forbids(ref.module)]


@pytest.mark.parametrize("rule", RULES, ids=[rule.package for rule in RULES])
def test_layer_respects_its_import_rule(rule: Rule) -> None:
    found = violations(rule, imports_in_package(rule.package))
    assert not found, f"{rule.reason}:\n" + "\n".join(found)


def test_checker_reports_forbidden_imports_in_actors() -> None:
    source = "import trio\nfrom net import x\nfrom . import messages\nimport logging\n"
    found = violations(RULES_BY_PACKAGE["actors"], imports_in_source(source, "actors/bad.py"))
    assert found == ["actors/bad.py:1 imports trio", "actors/bad.py:2 imports net.x"]


def test_checker_allows_only_stdlib_in_engine() -> None:
    source = (
        "from __future__ import annotations\nimport os.path\nfrom engine.vocabulary import PlayerId\n"
        "from .rules import tally\nimport pydantic\nfrom trio import sleep\n"
    )
    found = violations(RULES_BY_PACKAGE["engine"], imports_in_source(source, "engine/bad.py"))
    assert found == ["engine/bad.py:5 imports pydantic", "engine/bad.py:6 imports trio.sleep"]


def test_checker_matches_viewer_rule_by_dotted_prefix() -> None:
    source = (
        "from net.protocol import ServerFrame\nimport net.codec\nfrom net import server\n"
        "import net.bridge\nfrom net.connection import Connection\nimport networkx\n"
    )
    found = violations(RULES_BY_PACKAGE["viewer"], imports_in_source(source, "viewer/bad.py"))
    assert found == [
        "viewer/bad.py:3 imports net.server",
        "viewer/bad.py:4 imports net.bridge",
        "viewer/bad.py:5 imports net.connection.Connection",
    ]
