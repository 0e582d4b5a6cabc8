"""The CRM side: the customer directory, profiles, audited edits and insight lists."""
