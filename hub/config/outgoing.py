"""Where the hub may send requests it is told to by admins: bot and webhook URLs
(``[outgoing]`` in the config; docs/webhooks.md, "Refused addresses").

```toml
[outgoing]
allow_private_targets = false           # true: any address (development, tests, the demo)
allowed_networks = ["10.20.0.0/16"]     # private networks bots and receivers may live in
```

By default a URL whose host is, or resolves to, a loopback, private, link-local, multicast,
reserved or otherwise non-public address is refused when it is registered and again when each
request connects (the address actually connected to is checked, so a name that later resolves
elsewhere gains nothing).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hub.config.security import Networks


class OutgoingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private_targets: bool = False
    allowed_networks: Networks = ()
