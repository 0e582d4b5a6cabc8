"""full-text search over customers (name and company) and their addresses: FTS5 tables kept
by triggers on SQLite, expression GIN indexes on PostgreSQL (hub/agent/search.py queries exactly
these; addresses split at @ . + - _ so a domain or a mailbox name is a word); messages got
theirs in 0003_inbox

Revision ID: 0029_search
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0029_search"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def _fts5(table: str, columns: tuple[str, ...], tokenize: str) -> tuple[str, ...]:
    """An external-content FTS5 table over ``table`` kept by triggers, then filled."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "  # noqa: S608 (names are this module's constants)
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); "  # noqa: S608
    return (
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
        f"content_rowid='id', tokenize=\"{tokenize}\")",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert}END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete}END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {delete}{insert}END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608
    )


SQLITE = (
    *_fts5("customers", ("name", "company"), "unicode61 remove_diacritics 2"),
    *_fts5("identities", ("address",), "unicode61 remove_diacritics 2 separators '@.+-_'"),
)
POSTGRES = (
    "CREATE INDEX ix_customers_search ON customers USING gin "
    "(to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(company, '')))",
    "CREATE INDEX ix_identities_search ON identities USING gin "
    "(to_tsvector('simple', translate(address, '@.+-_', '     ')))",
)


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("customers", "identities"):
            for trigger in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_customers_search")
        op.execute("DROP INDEX IF EXISTS ix_identities_search")
