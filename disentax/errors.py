"""The one exception type for user mistakes: the CLI prints its message as a single line."""


class UserError(ValueError):
    """A mistake in what the user asked for (a name, a value, a path), stated in one line.

    The message says what was wrong and what is allowed; the CLI prints it without a traceback.
    """
