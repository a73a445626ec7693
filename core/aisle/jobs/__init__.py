"""Durable execution: the outbox relay, dramatiq workers and the wake-up scheduler."""
