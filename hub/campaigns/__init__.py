"""Campaigns: marketers message segments of customers through each one's preferred channel,
with consent, opt-out and exactly-once sending."""
