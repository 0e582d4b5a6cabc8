"""Sign-in and browser security settings (``[security]`` in the config).

```toml
[security]
trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]  # whose X-Forwarded-For / -Proto we believe
account_client_failures = 5     # failed sign-ins of one account from one client ...
client_failures = 30            # ... or of any accounts from one client ...
failure_window_minutes = 15     # ... within this window lock that pair / client out
lockout_minutes = 15            # for this long (counted from the failure that locked)
```
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return value


Networks = Annotated[tuple[str, ...], AfterValidator(_networks)]
"""A list of IP addresses and networks ("10.0.0.0/8"), each checked at start."""


class SecuritySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trusted_proxies: Networks = ()
    account_client_failures: int = Field(5, ge=1, le=1000)
    client_failures: int = Field(30, ge=1, le=100_000)
    failure_window_minutes: float = Field(15.0, gt=0, le=24 * 60)
    lockout_minutes: float = Field(15.0, gt=0, le=24 * 60)
