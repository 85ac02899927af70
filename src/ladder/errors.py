"""The one exception type for mistakes a user can fix."""


class LadderError(Exception):
    """A problem with the user's input (a name, a file, a parameter, a dataset).

    The CLI prints its message on one line and exits with code 2, without a traceback, so the
    message must name the problem and how to fix it.
    """
