"""An in-memory channel: keeps what the hub sends and makes customer messages on request."""
