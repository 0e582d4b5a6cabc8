"""The ``core`` fixture of tests/support/pipeline.py, for the two files that still use it
(tests/hub/test_outbox.py, tests/hub/test_routing.py); every other test uses the ``desk``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import make_settings
from tests.support.pipeline import Core, open_core
from tests.support.smtp import SmtpSink


@pytest.fixture
async def core(database_url: str, smtp_sink: SmtpSink) -> AsyncIterator[Core]:
    """Database, pipeline and clock on the real config, mail going to the SMTP sink."""
    settings = make_settings(database_url, **{"channels.mail.smtp_port": smtp_sink.port})
    async with open_core(settings) as opened:
        yield opened
