"""A customer's personal data from the profile page: a supervisor downloads it (and sees no erase
form); an admin erases the customer after typing ERASE (anything else is an inline error and
nothing is erased); the profile then says when, and an agent sees neither control."""

from __future__ import annotations

import io
import json
import zipfile

from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk


async def test_supervisor_downloads_admin_erases_after_typing_erase(
    desk: Desk, ui_agent: UiFactory
) -> None:
    mail = await inbound(desk, "My parcel is late", email="jane@example.com", name="Jane Cooper")
    jane = mail.customer_id
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    root = await ui_agent("root@example.com", role=Role.ADMIN)
    alice = await ui_agent("alice@example.com")

    page = await boss.page(f"/ui/customers/{jane}")
    assert "Download everything held" in page and "Erase this customer" not in page
    export = await boss.get(f"/ui/customers/{jane}/export")
    assert export.status == 200 and export.content_type == "application/zip"
    data = json.loads(zipfile.ZipFile(io.BytesIO(await export.read())).read("customer.json"))
    assert data["customer"]["name"] == "Jane Cooper"
    assert (await boss.post(f"/ui/customers/{jane}/erase", {"confirm": "ERASE"})).status == 403

    page = await alice.page(f"/ui/customers/{jane}")
    assert "Download everything held" not in page and "Erase this customer" not in page
    assert (await alice.get(f"/ui/customers/{jane}/export")).status == 403

    page = await root.page(f"/ui/customers/{jane}")
    assert "Type ERASE to confirm" in page
    wrong = await root.post(f"/ui/customers/{jane}/erase", {"confirm": "erase"})
    assert wrong.status == 422
    text = await wrong.text()
    assert 'id="erase-error"' in text and "Type ERASE (in capitals) to confirm" in text
    assert "Jane Cooper" in await root.page(f"/ui/customers/{jane}")

    done = await root.post(f"/ui/customers/{jane}/erase", {"confirm": "ERASE"})
    assert done.status == 303 and done.headers["Location"] == f"/ui/customers/{jane}?erased=1"
    page = await root.page(done.headers["Location"])
    assert "personal data was erased" in page and 'data-testid="erased"' in page
    assert "Jane Cooper" not in page and "jane@example.com" not in page
    assert "Erase this customer" not in page

    forged = await root.http.post(
        f"/ui/customers/{jane}/erase", data={"confirm": "ERASE"}, allow_redirects=False
    )
    assert forged.status == 403  # no CSRF field
