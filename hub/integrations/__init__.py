"""Outgoing webhooks for integrations: admins subscribe a URL to events (conversations,
messages, tickets, CSAT, handoffs); the hub reads its committed event log with a cursor per
subscription, owes each matching event one signed delivery (retried with backoff, logged,
redeliverable) and disables a subscription that keeps failing. See docs/webhooks.md."""
