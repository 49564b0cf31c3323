"""Notifications: outbox rows (written in the same transaction as their cause) and their delivery."""
