"""Settings for running the hub under an orchestrator (``[operations]`` in the config):
who may read ``GET /metrics``, the process label on every metric, and JSON logs.

```toml
[operations]
metrics_token = "a-long-random-token"     # GET /metrics needs "Authorization: Bearer <token>"
metrics_allow = ["127.0.0.1", "10.0.0.0/8"]  # or: only these client addresses (no token)
process = "web-1"                         # the "process" label (default: host name and pid)
json_logs = true                          # one JSON object per log line on stderr
listeners = false                         # see below
```

Several hub processes on one PostgreSQL database share all work through the database, except
what listens on a fixed port or polls a mailbox: the capture SMTP server, the inbound SMTP
receivers, IMAP pollers and Telegram long polling. Exactly one process runs those
(``listeners = true``, the default); set ``listeners = false`` on the others.
``relaydesk serve --workers N`` does this by itself.

Without ``metrics_token`` and ``metrics_allow``, ``/metrics`` answers 404: nothing is exposed
until an admin chooses how. With both, a request must come from an allowed address *and* carry
the token.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.config.security import Networks


class OperationsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics_token: str | None = Field(None, min_length=16, max_length=500)
    metrics_allow: Networks = ()
    process: str = Field("", max_length=100)
    json_logs: bool = False
    listeners: bool = True

    @property
    def metrics_enabled(self) -> bool:
        return bool(self.metrics_token or self.metrics_allow)
