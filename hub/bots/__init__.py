"""The bot gateway: registered bots, the hub-enforced handoff, signed events, bot figures."""
