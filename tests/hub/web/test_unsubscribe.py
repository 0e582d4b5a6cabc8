"""A customer leaves a campaign from the message itself: one click (RFC 8058) with the signed
link, a confirmation page for people (a GET changes nothing), and a preference page to choose
channels. A forged or expired link gets a friendly page and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.campaigns.links import recipient_token
from hub.db.campaign_models import ConsentChange, ConsentState
from hub.db.models import Customer
from tests.support.campaign_rows import (
    campaign,
    consent_state,
    person,
    recipient,
    recipient_row,
    token_for,
)
from tests.support.desk import Desk

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def _jane(desk: Desk) -> tuple[int, int, int]:
    jane = await person(desk, "Jane Cooper", email="jane@example.com", telegram="5550001")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref="<c1.1@relaydesk.local>")
    return rid, jane.identities["email"], jane.identities["telegram"]


async def test_one_click_post_unsubscribes_without_login_or_csrf(desk: Desk) -> None:
    rid, email, telegram = await _jane(desk)
    response = await desk.client.post(f"/u/{token_for(desk, rid)}", data=ONE_CLICK)
    assert response.status == 200
    page = await response.text()
    assert "You are unsubscribed" in page and "j•••@example.com" in page
    assert await consent_state(desk, email) == ("revoked", "unsubscribe")
    assert await consent_state(desk, telegram) == ("granted", "form")  # only that identity
    row = await recipient_row(desk, rid)
    assert row.unsubscribed_at is not None
    async with desk.db.reader() as session:
        change = await session.scalar(
            select(ConsentChange).where(
                ConsentChange.identity_id == email, ConsentChange.state == ConsentState.REVOKED
            )
        )
    assert change is not None and change.campaign_id == row.campaign_id

    page_again = await (await desk.client.get(f"/u/{token_for(desk, rid)}")).text()
    assert "already unsubscribed" in page_again and 'method="post"' not in page_again
    again = await desk.client.post(f"/u/{token_for(desk, rid)}", data=ONE_CLICK)
    assert again.status == 200 and "already unsubscribed" in await again.text()
    assert await desk.count(ConsentChange, ConsentChange.identity_id == email) == 2


async def test_get_shows_a_confirmation_page_and_changes_nothing(desk: Desk) -> None:
    rid, email, _telegram = await _jane(desk)
    response = await desk.client.get(f"/u/{token_for(desk, rid)}")
    assert response.status == 200
    page = await response.text()
    assert "Spring sale" in page and 'method="post"' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert await consent_state(desk, email) == ("granted", "form")
    assert (await recipient_row(desk, rid)).unsubscribed_at is None


async def test_forged_expired_or_malformed_links_change_nothing(desk: Desk) -> None:
    rid, email, _telegram = await _jane(desk)
    good = token_for(desk, rid)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_recipient = f"{rid + 1}." + good.split(".", 1)[1]  # a signature made for another row
    expired = recipient_token(
        desk.settings.secret_key, rid, desk.hub.clock.now() - timedelta(days=800)
    )
    for token in (forged, other_recipient, expired, "nonsense", "1.2.3"):
        response = await desk.client.post(f"/u/{token}", data=ONE_CLICK)
        assert response.status == 404, token
        assert "not valid or has expired" in await response.text()
        assert (await desk.client.get(f"/u/{token}")).status == 404
        assert (await desk.client.get(f"/u/{token}/preferences")).status == 404
    assert await consent_state(desk, email) == ("granted", "form")
    assert (await recipient_row(desk, rid)).unsubscribed_at is None


async def test_preference_page_changes_channels_and_the_preferred_one(desk: Desk) -> None:
    rid, email, telegram = await _jane(desk)
    token = token_for(desk, rid)
    page = await (await desk.client.get(f"/u/{token}/preferences")).text()
    assert "Email: j•••@example.com" in page and "Telegram: •••0001" in page
    assert "jane@example.com" not in page
    key = page.split('name="form_key" value="', 1)[1].split('"', 1)[0]

    response = await desk.client.post(
        f"/u/{token}/preferences",
        data={"form_key": key, "subscribe": str(telegram), "preferred": "telegram"},
    )
    assert response.status == 200
    assert "Your preferences are saved" in await response.text()
    assert await consent_state(desk, email) == ("revoked", "preferences")
    assert await consent_state(desk, telegram) == ("granted", "form")
    async with desk.db.reader() as session:
        preferred = await session.scalar(select(Customer.preferred_channel))
    assert preferred == "telegram"
    assert (await recipient_row(desk, rid)).unsubscribed_at is not None

    # Ticking email again grants it back, recorded as the customer's own choice.
    await desk.client.post(
        f"/u/{token}/preferences",
        data=[("form_key", key), ("subscribe", str(email)), ("subscribe", str(telegram))],
    )
    assert await consent_state(desk, email) == ("granted", "preferences")


async def test_preference_form_without_its_key_or_with_a_strangers_channel_is_refused(
    desk: Desk,
) -> None:
    rid, email, _telegram = await _jane(desk)
    stranger = await person(desk, "Sam", email="sam@example.com")
    token = token_for(desk, rid)
    page = await (await desk.client.get(f"/u/{token}/preferences")).text()
    key = page.split('name="form_key" value="', 1)[1].split('"', 1)[0]

    no_key = await desk.client.post(f"/u/{token}/preferences", data={"subscribe": ""})
    assert no_key.status == 403 and "expired" in await no_key.text()
    theirs = await desk.client.post(
        f"/u/{token}/preferences",
        data={"form_key": key, "subscribe": str(stranger.identities["email"])},
    )
    assert theirs.status == 400 and "Choose one of the channels listed" in await theirs.text()
    bad_kind = await desk.client.post(
        f"/u/{token}/preferences", data={"form_key": key, "preferred": "fax"}
    )
    assert bad_kind.status == 400
    assert await consent_state(desk, email) == ("granted", "form")
    assert await consent_state(desk, stranger.identities["email"]) == ("granted", "form")
