"""Files customers send through Telegram and Slack: after ingest the hub fetches each one from
the provider (the fake Bot API's getFile and file URL, the fake Slack's files.info and
url_private_download), keeps it, and an agent downloads the very bytes the provider served.
Files over the cap are listed but not kept (and say so on download); failed fetches are
retried later; fetching twice keeps one copy."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db.chat_models import ChatFileFetch
from hub.db.file_models import StoredFile
from hub.db.models import Role
from tests.channels.slack.conftest import post_event, slack_fixture, slack_overrides
from tests.channels.telegram.conftest import post_update, telegram_overrides
from tests.conftest import auth, make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import fake_fixture
from tests.support.fake_slack import TOKEN as SLACK_TOKEN
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 6
PDF = b"%PDF-1.7\n" + bytes(reversed(range(256))) * 5
CAP = 4096

fake_telegram = fake_fixture(FakeTelegram)
fake_slack = fake_fixture(FakeSlack)


@pytest.fixture
async def desk(
    database_url: str,
    fake_telegram: FakeTelegram,
    fake_slack: FakeSlack,
    make_desk: MakeDesk,
) -> Desk:
    settings = make_settings(
        database_url,
        **telegram_overrides(fake_telegram),
        **slack_overrides(fake_slack),
        **{
            "attachments.max_bytes": CAP,
            "chat_files.poll_seconds": 0.05,
            "chat_files.retry_seconds": 0.2,
        },
    )
    return await make_desk(settings=settings)


def _telegram_message(update_id: int, message_id: int, **content: Any) -> dict[str, Any]:
    jane = {"id": 408258968, "is_bot": False, "first_name": "Jane"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": 408258968, "type": "private", "first_name": "Jane"},
            "from": jane,
            **content,
        },
    }


def _photo(update_id: int = 900, message_id: int = 77) -> dict[str, Any]:
    sizes = [
        {"file_id": "photo-small", "file_unique_id": "s", "width": 90, "height": 60},
        {"file_id": "photo-large", "file_unique_id": "l", "width": 1280, "height": 853},
    ]
    return _telegram_message(update_id, message_id, photo=sizes, caption="my receipt")


async def _share(desk: Desk, shared: dict[str, Any]) -> dict[str, Any]:
    """A customer shares the file in Slack (an Events API file_share message)."""
    payload = slack_fixture("event_callback_message_file_share.json")
    payload["event"]["files"] = [shared]
    assert (await post_event(desk, payload)).status == 200
    return shared


async def _fetches(desk: Desk) -> list[ChatFileFetch]:
    async with desk.hub.db.reader() as session:
        rows = await session.scalars(select(ChatFileFetch).order_by(ChatFileFetch.id))
        return list(rows.all())


async def _settled(desk: Desk, count: int = 1) -> list[ChatFileFetch]:
    async def done() -> bool:
        rows = await _fetches(desk)
        return len(rows) >= count and all(row.state != "pending" for row in rows)

    await eventually(done, what="files fetched")
    return await _fetches(desk)


async def _download(desk: Desk, token: str, message_id: int) -> tuple[int, bytes, Any]:
    response = await desk.client.get(
        f"/api/v1/messages/{message_id}/attachments/0", headers=auth(token)
    )
    body = await response.read()
    return response.status, body, response.headers


async def test_telegram_photo_is_fetched_and_agents_download_its_bytes(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    fake_telegram.add_file("photo-large", PHOTO)
    assert (await post_update(desk, _photo())).status == 200
    [row] = await _settled(desk)
    assert row.state == "stored", row.last_error
    [message] = await desk.inbound_messages()
    status, body, headers = await _download(desk, token, message.id)
    assert status == 200 and body == PHOTO
    assert headers["Content-Type"] == "image/jpeg"
    [get_file] = fake_telegram.called("getFile")
    assert get_file.params["file_id"] == "photo-large"  # the largest size, not the thumbnail
    assert (await desk.message(message.id)).attachments[0]["stored"] is True


@pytest.mark.parametrize(
    ("kind", "media", "filename"),
    [
        ("document", {"file_name": "terms.pdf", "mime_type": "application/pdf"}, "terms.pdf"),
        ("voice", {"duration": 3, "mime_type": "audio/ogg"}, "voice.ogg"),
        ("video", {"duration": 2, "width": 64, "height": 64}, "video.mp4"),
        (
            "sticker",
            {
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
            "sticker.webp",
        ),
    ],
)
async def test_every_telegram_file_kind_is_fetched(
    desk: Desk, fake_telegram: FakeTelegram, kind: str, media: dict[str, Any], filename: str
) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    fake_telegram.add_file(f"{kind}-1", PDF)
    content = {kind: {"file_id": f"{kind}-1", "file_unique_id": f"u-{kind}", **media}}
    assert (await post_update(desk, _telegram_message(905, 90, **content))).status == 200
    [row] = await _settled(desk)
    assert row.state == "stored", row.last_error
    [message] = await desk.inbound_messages()
    assert message.attachments[0]["filename"] == filename
    status, body, _ = await _download(desk, token, message.id)
    assert status == 200 and body == PDF


async def test_telegram_document_over_the_cap_is_listed_but_not_kept(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    declared = {"file_id": "doc-big", "file_unique_id": "b", "file_name": "scan.pdf"}
    # The update does not say how large; getFile does, and nothing is downloaded.
    fake_telegram.add_file("doc-big", PDF, extension="pdf", size=CAP * 3)
    assert (await post_update(desk, _telegram_message(901, 78, document=declared))).status == 200
    [row] = await _settled(desk)
    assert row.state == "not_kept"
    assert fake_telegram.called("getFile") and not fake_telegram.called("download")
    [message] = await desk.inbound_messages()
    status, body, _ = await _download(desk, token, message.id)
    assert status == 410
    assert b"scan.pdf" in body and b"not kept" in body
    [meta] = (await desk.message(message.id)).attachments
    assert meta["filename"] == "scan.pdf" and meta["stored"] is False
    assert f"larger than the {CAP} byte limit" in meta["not_kept"]


async def test_size_reported_in_the_update_is_checked_before_any_call(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    document = {
        "file_id": "doc-huge",
        "file_unique_id": "h",
        "file_name": "video.mov",
        "file_size": CAP + 1,
    }
    assert (await post_update(desk, _telegram_message(902, 79, document=document))).status == 200
    [row] = await _settled(desk)
    assert row.state == "not_kept"
    assert fake_telegram.called("getFile") == []


async def test_failed_fetch_is_retried_later(desk: Desk, fake_telegram: FakeTelegram) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    fake_telegram.add_file("photo-large", PHOTO)
    fake_telegram.fail(500, methods=("download",))
    assert (await post_update(desk, _photo())).status == 200
    [row] = await _settled(desk)
    assert row.state == "stored" and row.attempts == 1
    assert row.last_error is None
    first, second = fake_telegram.called("download")
    assert second.at - first.at >= 0.15  # after the retry delay, not at once
    [message] = await desk.inbound_messages()
    status, body, _ = await _download(desk, token, message.id)
    assert status == 200 and body == PHOTO


async def test_fetch_that_keeps_failing_gives_up_and_says_why(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    # No such file at the Bot API: "Bad Request: invalid file_id" is final.
    assert (await post_update(desk, _photo())).status == 200
    [row] = await _settled(desk)
    assert row.state == "failed" and row.attempts == 1
    [message] = await desk.inbound_messages()
    assert (await _download(desk, token, message.id))[0] == 410
    [meta] = (await desk.message(message.id)).attachments
    assert meta["stored"] is False and "invalid file_id" in meta["not_kept"].lower()


async def test_fetching_again_keeps_one_copy(desk: Desk, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_file("photo-large", PHOTO)
    assert (await post_update(desk, _photo())).status == 200
    await _settled(desk)
    assert (await post_update(desk, _photo())).status == 200  # Telegram delivers it again
    await desk.hub.chat_files.run_once()
    assert len(await desk.inbound_messages()) == 1
    assert len(await _fetches(desk)) == 1
    async with desk.hub.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 1
    assert len(fake_telegram.called("download")) == 1


async def test_slack_file_share_is_fetched_with_the_bot_token(
    desk: Desk, fake_slack: FakeSlack
) -> None:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    shared = await _share(desk, fake_slack.add_file("invoice.pdf", PDF, "application/pdf"))
    [row] = await _settled(desk)
    assert row.state == "stored", row.last_error
    [message] = await desk.inbound_messages()
    status, body, headers = await _download(desk, token, message.id)
    assert status == 200 and body == PDF
    assert headers["Content-Type"] == "application/pdf"
    [info] = fake_slack.called("files.info")
    assert info.params["file"] == shared["id"]
    [download] = fake_slack.called("download")
    assert download.token == SLACK_TOKEN


async def test_slack_file_over_the_cap_is_not_downloaded(desk: Desk, fake_slack: FakeSlack) -> None:
    await _share(desk, fake_slack.add_file("big.zip", PDF, "application/zip", size=CAP * 2))
    [row] = await _settled(desk)
    assert row.state == "not_kept"
    assert fake_slack.called("download") == []


async def test_slack_sign_in_page_is_not_kept_as_the_file_and_is_retried(
    desk: Desk, fake_slack: FakeSlack
) -> None:
    fake_slack.files_scope = False  # until an admin adds files:read to the app
    await _share(desk, fake_slack.add_file("invoice.pdf", PDF, "application/pdf"))

    async def refused() -> bool:
        rows = await _fetches(desk)
        return bool(rows) and rows[0].attempts >= 1

    await eventually(refused, what="a failed attempt")
    [row] = await _fetches(desk)
    assert row.state == "pending" and "files:read" in (row.last_error or "")
    fake_slack.files_scope = True
    [row] = await _settled(desk)
    assert row.state == "stored"
    async with desk.hub.db.reader() as session:
        stored = await session.scalar(select(StoredFile))
        assert stored is not None and stored.content == PDF
