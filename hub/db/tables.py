"""Every table of the hub in one metadata: the domain rows and each area's own. Migrations and
anything that must see the whole schema import this module; the table modules import only
``hub.db.base`` and, for their foreign keys, ``hub.db.models``."""

from __future__ import annotations

from hub.db import (
    admin_models,
    audience_models,
    bots_models,
    campaign_models,
    chat_models,
    crm_models,
    email_models,
    file_models,
    inbox_models,
    models,
    notice_models,
    presence_models,
    privacy_models,
    ratelimit_models,
    report_models,
    routing_models,
    settings_models,
    signin_models,
    staff_models,
    webhook_models,
    widget_models,
)
from hub.db.base import Base

metadata = Base.metadata
MODULES = (
    models,
    admin_models,
    audience_models,
    bots_models,
    campaign_models,
    chat_models,
    crm_models,
    email_models,
    file_models,
    inbox_models,
    notice_models,
    presence_models,
    privacy_models,
    ratelimit_models,
    report_models,
    routing_models,
    settings_models,
    staff_models,
    signin_models,
    webhook_models,
    widget_models,
)
