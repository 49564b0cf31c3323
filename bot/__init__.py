"""Telegram front end of ediary (aiogram 3)."""
