"""Merging two records of one customer through the API (the conversation page does the same),
and undoing a merge. Anyone who works on conversations may merge customers they can see."""

from __future__ import annotations

from hub.agent.merging import merge_customers, undo_merge
from hub.core.errors import invalid_field, not_found
from hub.crm.profile import visible_customer
from hub.db.inbox_models import CustomerMerge
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.conversations import CustomerId
from hub.web.api.models.merges import CustomerMergeAnswer, MergeCustomers, MergeId

TAG = "Customers"
MERGERS = Requires(lambda caller: caller.handles_conversations, "merge customers")


def answer(merge: CustomerMerge) -> CustomerMergeAnswer:
    return CustomerMergeAnswer(
        id=merge.id,
        survivor_id=merge.target_id,
        absorbed_id=merge.source_id,
        identity_ids=list(merge.identity_ids),
        conversation_ids=list(merge.conversation_ids),
        created_at=merge.created_at,
        undone_at=merge.undone_at,
    )


@endpoint(
    "POST",
    "/api/v1/customers/{id}/merge",
    Doc(
        TAG,
        "Merge another record of the same customer with this one",
        "mergeCustomers",
        description="survivor_id (one of the two) chooses the record that stays; by default "
        "the one with more history does. Identities, consent, conversations and tags move to "
        "it; its own name, attributes and consent win, the other's differing values are kept "
        "as <key>.from_<id>. POST /api/v1/customer-merges/{id}/undo restores both records.",
        requires=MERGERS,
        ok={200: "The merge"},
        errors=(400, 401, 403, 404, 413, 422),
        notes={409: "the same record, or one already merged"},
    ),
)
async def merge(call: Call, path: CustomerId, body: MergeCustomers) -> CustomerMergeAnswer:
    hub, principal = call.hub, call.principal
    if body.survivor_id is not None and body.survivor_id not in (path.id, body.other_id):
        raise invalid_field("survivor_id", "must be the id of one of the two records")
    async with hub.db.writer() as session:
        first = await visible_customer(session, principal, path.id)
        second = await visible_customer(session, principal, body.other_id)
        row = await merge_customers(
            session, first, second, principal.agent_id, hub.clock.now(), body.survivor_id
        )
        await session.commit()
        return answer(row)


@endpoint(
    "POST",
    "/api/v1/customer-merges/{id}/undo",
    Doc(
        TAG,
        "Undo a customer merge: both records exactly as they were",
        "undoCustomerMerge",
        requires=MERGERS,
        ok={200: "The merge, undone"},
        errors=(400, 401, 403, 404),
        notes={409: "already undone"},
    ),
)
async def undo(call: Call, path: MergeId) -> CustomerMergeAnswer:
    hub, principal = call.hub, call.principal
    async with hub.db.writer() as session:
        row = await session.get(CustomerMerge, path.id)
        if row is None:
            raise not_found("merge", path.id)
        await visible_customer(session, principal, row.target_id)
        await undo_merge(session, row, hub.clock.now())
        await session.commit()
        return answer(row)


ENDPOINTS: tuple[Endpoint, ...] = (merge, undo)
