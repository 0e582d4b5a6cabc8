"""Schemathesis over the generated OpenAPI document: every operation, called by an admin and by
an anonymous caller, with a bounded number of generated requests each. No answer is a server
error, and every answer is one the document describes (status, content type, body schema).
The hub runs from the Desk harness on SQLite (and PostgreSQL when the suite has one), served
over HTTP from a thread so Schemathesis can call it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels.base import IdentityKind, InboundMessage, Party
from hub.db.models import Role
from hub.web.api.routes import api_document
from tests.conftest import BACKENDS, make_settings
from tests.support.live_desk import LiveDesk

EXAMPLES = 25  # per operation and caller: the whole module stays under a minute on SQLite
# CI draws the same examples every run, so a red run can be replayed; set RELAYDESK_FUZZ_EXPLORE=1
# to draw new ones (every finding becomes a regular test and a fix).
EXPLORE = os.environ.get("RELAYDESK_FUZZ_EXPLORE") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(api_document())
# Valid requests and invalid ones (wrong types, missing and extra fields, NUL characters).
schema.config.generation.update(modes=list(GenerationMode), allow_x00=True)
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("fuzz") / "relaydesk.db"
        shutil.copy(sqlite_template, target)
        url, truncate = f"sqlite+aiosqlite:///{target}", False
    else:
        url, truncate = request.getfixturevalue("postgres_migrated"), True
    desk = LiveDesk(make_settings(url), truncate=truncate).start()
    try:
        _, admin = desk.agent("admin@example.com", Role.ADMIN)
        desk.agent("sue@example.com")

        async def customer_writes() -> None:
            message = InboundMessage(
                channel="api",
                external_id="fuzz-1",
                sender=Party(IdentityKind.EMAIL, "jane@example.com", "Jane"),
                text="Hello",
                received_at=datetime.now(UTC),
            )
            await desk.hub.ingestor.submit(message)

        desk.run(customer_writes)
        yield {"url": desk.url, "admin": {"Authorization": f"Bearer {admin}"}}
    finally:
        desk.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not EXPLORE,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_a_server_error_or_an_undocumented_answer(
    case: schemathesis.Case, live: dict[str, Any]
) -> None:
    case.call_and_validate(base_url=live["url"], headers=live["admin"], checks=CHECKS)
    case.call_and_validate(base_url=live["url"], checks=CHECKS)  # no token
