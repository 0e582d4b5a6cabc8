"""The insight lists API: the lists with their definitions (customer filter language), each
list's customers in order, and saving a list as a campaign segment. Supervisors, admins and
marketers only."""

from __future__ import annotations

from hub.crm.insights import Insight, catalogue, insight_named, may_read, run_insight, save_segment
from hub.web.api.customers import summary
from hub.web.api.edge import Call, Doc, Endpoint, Reply, Requires, endpoint
from hub.web.api.models import customers as shapes

TAG = "Insights"
READERS = Requires(may_read, "read insight lists (supervisors, admins and marketers)")


def insight_answer(insight: Insight) -> shapes.Insight:
    return shapes.Insight(
        name=insight.name,
        title=insight.title,
        description=insight.description,
        definition=insight.definition,
        metric=insight.metric,
    )


@endpoint(
    "GET",
    "/api/v1/insights",
    Doc(
        TAG,
        "The insight lists and their definitions",
        "listInsights",
        description="Thresholds come from [crm.insights] in the config.",
        requires=READERS,
        ok={200: "The lists"},
        errors=(401, 403),
    ),
)
async def list_insights(call: Call) -> shapes.InsightList:
    found = catalogue(call.hub.settings.crm.insights).values()
    return shapes.InsightList(items=[insight_answer(i) for i in found])


@endpoint(
    "GET",
    "/api/v1/insights/{name}",
    Doc(
        TAG,
        "The customers on one insight list, in its order",
        "getInsight",
        requires=READERS,
        ok={200: "The list (at most crm.insights.limit customers)"},
        errors=(401, 403, 404),
    ),
)
async def get_insight(call: Call, path: shapes.InsightName) -> shapes.InsightPage:
    settings = call.hub.settings.crm.insights
    insight = insight_named(settings, path.name)
    async with call.hub.db.reader() as session:
        rows = await run_insight(session, insight, call.hub.clock.now(), settings.limit)
    return shapes.InsightPage(
        insight=insight_answer(insight),
        items=[shapes.InsightRow(customer=summary(r.row), value=r.value) for r in rows],
    )


@endpoint(
    "POST",
    "/api/v1/insights/{name}/segments",
    Doc(
        TAG,
        "Save an insight list as a campaign segment",
        "saveInsightSegment",
        description="The segment keeps the list's definition (relative times are evaluated "
        "when a campaign uses it), so the audience stays current.",
        requires=READERS,
        ok={201: "The new segment"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def post_insight_segment(
    call: Call, path: shapes.InsightName, body: shapes.NewSegment
) -> Reply[shapes.Segment]:
    insight = insight_named(call.hub.settings.crm.insights, path.name)
    async with call.hub.db.writer() as session:
        segment = await save_segment(
            session, call.principal, insight, body.name, call.hub.clock.now()
        )
        await session.commit()
        return Reply(shapes.Segment.model_validate(segment), 201)


ENDPOINTS: tuple[Endpoint, ...] = (list_insights, get_insight, post_insight_segment)
