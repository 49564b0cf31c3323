"""Local stand-ins for Telegram: a Bot-API-shaped server for tests and the browser sandbox."""
