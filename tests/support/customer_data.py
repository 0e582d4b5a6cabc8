"""A customer with data in every store: a real mail with an attachment (kept as a mail part with
the raw mail) and an agent's note with an uploaded file (a stored file), through the same paths
users take (the mail adapter and ingest; the agent API)."""

from __future__ import annotations

from email.message import EmailMessage

import aiohttp

from hub.inbound.results import IngestResult
from tests.conftest import auth
from tests.hub.web.ui.conftest import inbound_mail
from tests.support.agent_api import call
from tests.support.desk import Desk


async def mail_with_attachment(
    desk: Desk, *, sender: str, name: str, text: str, filename: str, content: bytes
) -> IngestResult:
    mail = EmailMessage()
    mail["From"] = f"{name} <{sender}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"About {filename}"
    mail.set_content(text)
    mail.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return await inbound_mail(desk, mail)


async def note_with_file(
    desk: Desk, token: str, conversation_id: int, *, text: str, filename: str, content: bytes
) -> int:
    """An internal note with one uploaded file; returns the note's message id."""
    form = aiohttp.FormData()
    form.add_field("file", content, filename=filename, content_type="text/plain")
    response = await desk.client.post("/api/v1/uploads", data=form, headers=auth(token))
    assert response.status == 201, await response.text()
    file_id = (await response.json())["id"]
    status, note = await call(
        desk.client,
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        token,
        {"text": text, "private": True, "attachments": [file_id]},
    )
    assert status == 201, note
    return int(note["id"])
