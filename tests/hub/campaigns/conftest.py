"""Campaign tests run the hub with its email side (inbound SMTP on an ephemeral port, outgoing
mail to the SMTP sink), as bounces, mailed replies and mailto: unsubscribes arrive there."""

from __future__ import annotations

import pytest

from hub.config.settings import Settings
from tests.hub.email.conftest import mail_settings
from tests.support.smtp import SmtpSink


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink) -> Settings:
    return mail_settings(database_url, smtp_sink)
