"""Slack apps through slack-bolt (Events API in) and slack-sdk (Web API out)."""
