"""Domain errors, translated to HTTP statuses or voter apologies only at the edge."""

from __future__ import annotations


class SamvadError(Exception):
    """Base of the project's own errors."""

    message = "Samvad error"

    def __init__(self, message: str | None = None, *, conversation_id: str | None = None) -> None:
        super().__init__(message or self.message)
        self.conversation_id = conversation_id


class RasaUnavailable(SamvadError):
    """Rasa did not answer in time, refused the connection, or answered with an error."""

    message = "the assistant is unavailable"


class BadRequest(SamvadError):
    """A request body we cannot read (malformed JSON, wrong shape)."""

    message = "bad request"


class Forbidden(SamvadError):
    message = "forbidden"
