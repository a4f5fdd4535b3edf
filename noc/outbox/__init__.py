"""The outbox: every message noc sends (webhooks, later e-mail) is queued durably and dispatched with retries."""
