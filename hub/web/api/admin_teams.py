"""The admin console's team API (admins only): list, create, rename, members added and
removed; the audit log of every admin change, paged, and the first-run checklist."""

from __future__ import annotations

from hub.admin import teams as service
from hub.admin.checklist import checklist
from hub.core.audit import recent_changes
from hub.web.api.admin_agents import ADMINS, CHANGE_ERRORS
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models import admin_people as shapes

TAG = "Admin: teams"
AUDIT = "Admin: audit"


def team_answer(team: service.TeamView) -> shapes.AdminTeam:
    return shapes.AdminTeam(
        id=team.id,
        slug=team.slug,
        name=team.name,
        members=[
            shapes.Member(id=m.id, name=m.name, email=m.email, role=m.role, active=m.active)
            for m in team.members
        ],
    )


@endpoint(
    "GET",
    "/api/v1/admin/teams",
    Doc(TAG, "Every team with its members", "adminListTeams", requires=ADMINS, errors=(401, 403)),
)
async def list_all(call: Call) -> shapes.AdminTeams:
    async with call.hub.db.reader() as session:
        found = await service.list_teams(session)
    return shapes.AdminTeams(items=[team_answer(t) for t in found])


@endpoint(
    "POST",
    "/api/v1/admin/teams",
    Doc(
        TAG,
        "Create a team (its slug is made from the name)",
        "adminCreateTeam",
        requires=ADMINS,
        ok={201: "The new team"},
        errors=(400, 401, 403, 413, 422),
        notes={409: "A team with this name exists (conflict, field name)"},
    ),
)
async def create(call: Call, body: shapes.NewTeam) -> Reply[shapes.AdminTeam]:
    hub = call.hub
    async with hub.db.writer() as session:
        team = await service.create_team(
            session, call.principal.agent_id, body.name, hub.clock.now()
        )
        await session.commit()
    return Reply(team_answer(team), 201)


@endpoint(
    "PATCH",
    "/api/v1/admin/teams/{id}",
    Doc(
        TAG,
        "Rename a team (the slug stays)",
        "adminRenameTeam",
        requires=ADMINS,
        errors=CHANGE_ERRORS,
        notes={409: "Another team has this name"},
    ),
)
async def rename(call: Call, path: shapes.TeamId, body: shapes.TeamChange) -> shapes.AdminTeam:
    hub = call.hub
    async with hub.db.writer() as session:
        team = await service.rename_team(
            session, call.principal.agent_id, path.id, body.name, hub.clock.now()
        )
        await session.commit()
    return team_answer(team)


@endpoint(
    "POST",
    "/api/v1/admin/teams/{id}/members",
    Doc(
        TAG,
        "Add an agent to a team",
        "adminAddMember",
        requires=ADMINS,
        errors=CHANGE_ERRORS,
        notes={409: "Already a member", 422: "No such agent (field agent_id)"},
    ),
)
async def add_member(call: Call, path: shapes.TeamId, body: shapes.NewMember) -> shapes.AdminTeam:
    hub = call.hub
    async with hub.db.writer() as session:
        team = await service.add_member(
            session, call.principal.agent_id, path.id, body.agent_id, hub.clock.now()
        )
        await session.commit()
    call.hub.events.wake()
    return team_answer(team)


@endpoint(
    "DELETE",
    "/api/v1/admin/teams/{id}/members/{agent_id}",
    Doc(
        TAG,
        "Remove an agent from a team",
        "adminRemoveMember",
        requires=ADMINS,
        errors=(401, 403, 404),
    ),
)
async def remove_member(call: Call, path: shapes.TeamMemberId) -> shapes.AdminTeam:
    hub = call.hub
    async with hub.db.writer() as session:
        team = await service.remove_member(
            session, call.principal.agent_id, path.id, path.agent_id, hub.clock.now()
        )
        await session.commit()
    call.hub.events.wake()
    return team_answer(team)


@endpoint(
    "GET",
    "/api/v1/admin/audit",
    Doc(
        AUDIT,
        "The audit log: every admin change, newest first",
        "adminAuditLog",
        description="Who, when, area, what, old -> new (JSON text; secrets are never logged). "
        "Page back with before=next_before.",
        requires=ADMINS,
        errors=(400, 401, 403),
    ),
)
async def audit(call: Call, query: shapes.AuditParams) -> shapes.AuditPage:
    async with call.hub.db.reader() as session:
        rows = list(
            await recent_changes(
                session, area=query.area, before_id=query.before, limit=query.limit + 1
            )
        )
    shown = rows[: query.limit]
    return shapes.AuditPage(
        items=[
            shapes.AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                area=r.area,
                action=r.action,
                target=r.target,
                old=r.old,
                new=r.new,
            )
            for r in shown
        ],
        next_before=shown[-1].id if len(rows) > query.limit else None,
    )


@endpoint(
    "GET",
    "/api/v1/admin/checklist",
    Doc(
        AUDIT,
        "The first-run checklist: connect a channel, invite agents, set business hours",
        "adminChecklist",
        requires=ADMINS,
        errors=(401, 403),
    ),
)
async def first_run(call: Call) -> shapes.Checklist:
    hub = call.hub
    async with hub.db.reader() as session:
        items = await checklist(session, list(hub.channels), list(hub.settings.calendars))
    return shapes.Checklist(
        items=[
            shapes.ChecklistItem(
                key=i.key,
                title=i.title,
                done=i.done,
                href=i.href,
                detail=i.detail,
            )
            for i in items
        ]
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    list_all,
    create,
    rename,
    add_member,
    remove_member,
    audit,
    first_run,
)
