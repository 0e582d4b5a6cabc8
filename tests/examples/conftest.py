"""The example bot's stories use the bot stories' quiet desk."""

from tests.hub.routing.conftest import make_desk  # noqa: F401
