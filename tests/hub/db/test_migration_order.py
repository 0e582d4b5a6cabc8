"""The schema's migrations form branches (an area each), and Alembic may apply the branches in
any order that respects each migration's ancestry and ``depends_on``. So a migration that
changes a table must have the migration that creates it among those: otherwise a fresh
database fails to migrate as soon as Alembic happens to pick another order (0043, which alters
``sla_events`` and ``jobs``, ran before they existed once 0044 added a head). And a store at
any revision upgrades to the heads: a ``depends_on`` across branches can make Alembic's
bookkeeping of the heads fail on one path and not another (a first version of 0045, with a
``depends_on`` of 0043, broke the upgrade of a store at 0014)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from alembic.script import ScriptDirectory

from hub.platform.migrate import alembic_config, upgrade


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for holder in ast.walk(tree):
        body = getattr(holder, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            found.add(id(first.value))
    return found


def _created(tree: ast.AST) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "create_table"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def _named(tree: ast.AST, tables: set[str]) -> set[str]:
    """The tables whose names appear in the migration's strings (its docstrings aside)."""
    docs = _docstrings(tree)
    return {
        word
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        for word in re.findall(r"[a-z_0-9]+", node.value)
        if word in tables
    }


def test_every_migration_comes_after_the_ones_that_create_the_tables_it_changes() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    trees = {
        script.revision: ast.parse(Path(script.path).read_text())
        for script in scripts.walk_revisions()
    }
    created = {revision: _created(tree) for revision, tree in trees.items()}
    tables = set().union(*created.values())
    assert {"messages", "sla_events", "jobs"} <= tables  # the parse finds what it should
    out_of_order = {}
    for revision, tree in trees.items():
        # Alembic's own walk: the migration, its ancestry and what it ``depends_on``.
        before = scripts.iterate_revisions(revision, "base")
        available = set().union(*(created[earlier.revision] for earlier in before))
        missing = _named(tree, tables) - available
        if missing:
            out_of_order[revision] = sorted(missing)
    assert out_of_order == {}


# Alembic cannot upgrade an empty store to 0043 alone (its ``depends_on`` across branches: a
# KeyError in its heads' bookkeeping); ``relaydesk migrate`` always upgrades to every head.
NOT_A_STOP = {"0043_sweep_sentinels"}


def test_a_store_at_any_revision_upgrades_to_the_heads(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = sorted(r.revision for r in script.walk_revisions())
    for revision in revisions:
        if revision in NOT_A_STOP:
            continue
        url = f"sqlite+aiosqlite:///{tmp_path / f'{revision}.db'}"
        upgrade(url, revision)
        upgrade(url)  # raises if the path from there fails
