"""The chat-bot gateway: a built-in FAQ bot and connectors to external bots."""
