"""Which mails are the same mail: the Message-ID when there is one; without one, a digest of
what relaying does not change, so the same mail arriving by two routes (other Received,
Return-Path, DKIM, ARC and X- trace headers) is stored once, and two different mails twice."""

from __future__ import annotations

from channels.email.parse import parse_rfc822
from tests.hub.email.conftest import smtp_in
from tests.support.desk import Desk

BASE = [
    "From: Jane Cooper <jane@example.com>",
    "To: support@relaydesk.local",
    "Subject: No id on this one",
    "Date: Mon, 05 Jan 2026 09:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
]

ROUTE_A = [
    "Return-Path: <jane@example.com>",
    "Received: from mx1.example.net (mx1.example.net [192.0.2.1])\r\n\tby relay-a; "
    "Mon, 5 Jan 2026 09:00:02 +0000",
    "Received: from laptop by mx1.example.net; Mon, 5 Jan 2026 09:00:01 +0000",
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=a; b=AAAA",
    "X-Spam-Score: 0.1",
]
ROUTE_B = [
    "Delivered-To: support@relaydesk.local",
    "Received: from backup-mx.example.org by relay-b; Mon, 5 Jan 2026 09:07:00 +0000",
    "Received: from mx2.example.net by backup-mx.example.org; Mon, 5 Jan 2026 09:06:00 +0000",
    "Received: from laptop by mx2.example.net; Mon, 5 Jan 2026 09:00:01 +0000",
    "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=arc; b=BBBB",
    "ARC-Authentication-Results: i=1; backup-mx.example.org; spf=pass",
    "Authentication-Results: relay-b; dkim=pass",
    "Received-SPF: pass",
    "X-Originating-IP: 198.51.100.7",
    "X-Forwarded-For: 198.51.100.7",
]


def relayed(route: list[str], body: str = "Is anyone there?", base: list[str] = BASE) -> bytes:
    return ("\r\n".join([*route, *base]) + "\r\n\r\n" + body + "\r\n").encode()


def test_without_a_message_id_the_identity_ignores_what_relays_add() -> None:
    first = parse_rfc822("mail", relayed(ROUTE_A))
    second = parse_rfc822("mail", relayed(ROUTE_B))
    assert first.external_id == second.external_id
    assert first.external_id.startswith("<sha256-")
    other_body = parse_rfc822("mail", relayed(ROUTE_A, "Something else"))
    other_subject = parse_rfc822(
        "mail", relayed(ROUTE_B, base=[*BASE[:2], "Subject: Another one", *BASE[3:]])
    )
    assert len({first.external_id, other_body.external_id, other_subject.external_id}) == 3


def test_a_message_id_is_the_identity_whatever_the_route() -> None:
    with_id = [*BASE, "Message-ID: <abc@example.com>"]
    first = parse_rfc822("mail", relayed(ROUTE_A, base=with_id))
    second = parse_rfc822("mail", relayed(ROUTE_B, "changed in transit", base=with_id))
    assert first.external_id == second.external_id == "<abc@example.com>"


async def test_the_same_mail_relayed_by_two_routes_is_stored_once(desk: Desk) -> None:
    await smtp_in(desk, relayed(ROUTE_A))
    await smtp_in(desk, relayed(ROUTE_B))
    assert len(await desk.inbound_messages()) == 1
    await smtp_in(desk, relayed(ROUTE_B, "A second question"))
    assert len(await desk.inbound_messages()) == 2
