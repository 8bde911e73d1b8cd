"""The exceptions the command line turns into one line: a user's mistake (exit 2) and an interruption (130)."""


class UsageError(ValueError):
    """Bad input from the user (an unknown database, a size out of range, ...); the message says what is allowed."""


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped a long job after it cleaned up; the message says how to resume."""
