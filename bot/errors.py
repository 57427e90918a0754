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


class CampaignFileError(SamvadError):
    """A campaign file that cannot be sent: each problem names the field and what is wrong."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


class CampaignBusy(SamvadError):
    """Another process is sending the same campaign now."""

    message = "this campaign is being sent by another process"


class RecipientBlocked(SamvadError):
    """The voter blocked the bot or deleted the chat: nobody to deliver to."""

    message = "the recipient blocked the bot"


class FloodWait(SamvadError):
    """The platform asks us to wait before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood limit: retry after {seconds:g} s")
        self.seconds = seconds


class DeliveryFailed(SamvadError):
    """The platform refused the message for good (bad chat id, bad text), or the network kept failing."""

    message = "the message could not be delivered"


class InvalidTransition(SamvadError):
    """A conversation cannot move from the state it is in to the one asked for."""

    message = "invalid conversation transition"

    def __init__(self, conversation_id: str, current: str, wanted: str) -> None:
        super().__init__(f"{conversation_id}: cannot go from {current} to {wanted}", conversation_id=conversation_id)
        self.current = current
        self.wanted = wanted


class InboxFull(SamvadError):
    """A conversation's inbox holds as many unanswered messages as it may; the new one was not stored."""

    message = "too many unanswered messages in this conversation"


class WindowClosed(SamvadError):
    """WhatsApp: the voter last wrote more than 24 h ago; only an approved template may reach them now."""

    message = "the 24-hour customer-service window is closed: only a template may be sent"


class SendingRestricted(SamvadError):
    """WhatsApp held this number's messages back (131048 spam rate limit, 131049 not delivered by Meta's choice)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"WhatsApp error {code}: {reason}")
        self.code = code
        self.reason = reason
