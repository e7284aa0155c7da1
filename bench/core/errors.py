"""Errors the harness reports to its users: each says what went wrong and how to fix it."""


class HarnessError(Exception):
    """A problem the user can fix; the CLI prints the message and exits with status 2."""


class UnsafeTargetError(HarnessError):
    """The target database holds data the harness did not create; it refuses to touch it."""


class MigrationError(HarnessError):
    """A schema or migration statement failed; carries the statement and the server's message."""

    def __init__(self, file: str, index: int, statement: str, server_message: str, state: str) -> None:
        self.file = file
        self.index = index
        self.statement = statement
        self.server_message = server_message
        self.state = state
        super().__init__(
            f"{file}: statement {index} failed: {server_message.strip()}\n"
            f"  statement: {statement.strip()}\n"
            f"  instance state: {state}"
        )


class UsageError(HarnessError):
    """A flag, environment variable or input file is wrong; refused before anything starts (exit status 2)."""
