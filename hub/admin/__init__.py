"""The admin console's services: agents, teams, channels, routing, SLA, templates and the
settings an admin stores in the database. Pages and API live in hub.web."""
