"""Persistence: SQLAlchemy 2 models, engine and session factory. Imports SQLAlchemy only."""
