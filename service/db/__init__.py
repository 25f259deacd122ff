"""Storage: SQLModel tables, engine set-up and migrations. Used by the API, the worker and the CLI."""
