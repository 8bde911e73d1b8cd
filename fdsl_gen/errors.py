"""The one exception type for a user's mistake: the CLI prints its message on one line and exits 2."""


class UsageError(ValueError):
    """Bad input from the user (an unknown database, a size out of range, ...); the message says what is allowed."""
