"""The insert sentinel column migrations add (0042, 0043): nullable, no default, so adding it
rewrites nothing on either store. SQLAlchemy fills it while it inserts several rows in one
statement and reads them back with their ids; without it, SQLite (whose RETURNING does not
promise the rows' order) gets one INSERT per row."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def add_sentinels(tables: tuple[str, ...]) -> None:
    for table in tables:
        op.add_column(table, sa.Column("_sentinel", sa.Integer(), nullable=True))


def drop_sentinels(tables: tuple[str, ...]) -> None:
    for table in tables:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("_sentinel")
