"""Consent per customer identity over the API: read the current state and its history, and
record a change. Marketers and admins record it as ``api`` (their systems, their imports);
agents and supervisors as ``agent`` (what a customer told them), for customers they may see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns.consent_records import customer_for_consent, record_by_staff
from hub.core.authz import Principal
from hub.core.consent import consent_of, history_of
from hub.db.campaign_models import ConsentState
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models.segments import (
    ConsentChange,
    ConsentEvent,
    ConsentNow,
    Consents,
    CustomerId,
)

TAG = "Audience"


async def consents_of(session: AsyncSession, principal: Principal, customer_id: int) -> Consents:
    await customer_for_consent(session, principal, customer_id)
    return Consents(
        customer_id=customer_id,
        current=[
            ConsentNow.model_validate(view) for view in await consent_of(session, customer_id)
        ],
        history=[ConsentEvent.model_validate(c) for c in await history_of(session, customer_id)],
    )


@endpoint(
    "GET",
    "/api/v1/customers/{id}/consent",
    Doc(
        TAG,
        "A customer's consent per identity and its history",
        "getConsent",
        description="Every identity of the customer with its consent (null: never asked), and "
        "every change oldest first with its source (form, import, api, agent, unsubscribe, ...).",
        errors=(401, 404),
    ),
)
async def get_consent(call: Call, path: CustomerId) -> Consents:
    async with call.hub.db.reader() as session:
        return await consents_of(session, call.principal, path.id)


@endpoint(
    "POST",
    "/api/v1/customers/{id}/consent",
    Doc(
        TAG,
        "Record a customer's consent on one identity",
        "recordConsent",
        description="The source is decided by the caller: api for marketers and admins, agent "
        "for agents and supervisors (what the customer told them). Recording the state an "
        "identity already has changes nothing.",
        ok={201: "The customer's consent after the change"},
        errors=(400, 401, 404, 413, 422),
    ),
)
async def post_consent(call: Call, path: CustomerId, body: ConsentChange) -> Reply[Consents]:
    hub = call.hub
    async with hub.db.writer() as session:
        await record_by_staff(
            session,
            call.principal,
            path.id,
            body.identity,
            ConsentState(body.state),
            hub.clock.now(),
            note=body.note,
        )
        answer = await consents_of(session, call.principal, path.id)
        await session.commit()
    return Reply(answer, 201)


ENDPOINTS: tuple[Endpoint, ...] = (get_consent, post_consent)
