"""Domain errors that routes and commands map to clear responses."""


class NotFoundError(LookupError):
    """No document with that id."""


class InvalidStateError(ValueError):
    """The document is not in a state that allows the action."""
