"""Who may get a campaign message now: audience, quiet hours and the election silence period.

Pure functions of the recipient, the campaign, the schedule and a clock, so the law's
rules are tested with fixed times (``tests/test_outreach_rules.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.handoff.hours import AgentHours
from bot.outreach.campaign import Audience, Campaign
from bot.schedule import IST, Schedule

UNKNOWN_CONSTITUENCY = "(constituency not known)"
BROADCAST_CHANNELS = frozenset({"telegram", "whatsapp"})  # the web chat cannot be written to first


class Status(str, Enum):
    """What happened to one recipient of a campaign (stored per recipient in Redis)."""

    SENDING = "sending"  # claimed and in flight; left like this by a crash, it is "uncertain"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"  # blocked the bot
    OPTED_OUT = "opted_out"  # withdrew consent or erased their data before their turn
    HELD_QUIET = "held_quiet"
    HELD_SILENCE = "held_silence"  # stored as "held_silence:<constituency>"
    NO_CHANNEL = "no_channel"  # subscribed on a channel that cannot be written to first
    HELD_TIER = "held_tier"  # WhatsApp: the number's messaging tier has no room in this 24 h

    @property
    def final(self) -> bool:
        """A recipient in a final state is never sent to again by a re-run."""
        return self in (Status.SENDING, Status.SENT, Status.FAILED, Status.UNREACHABLE)


@dataclass(frozen=True)
class Recipient:
    conversation_id: str
    key: str  # conversation_hash: how campaign progress refers to the recipient
    channel: str
    chat_id: str
    language: str
    constituency: str | None  # the schedule's spelling, when known
    state: str | None
    unreachable: bool = False


@dataclass(frozen=True)
class Hold:
    status: Status
    constituency: str | None = None

    @property
    def stored(self) -> str:
        return f"{self.status.value}:{self.constituency}" if self.constituency else self.status.value


class QuietHours:
    """No outreach inside a daily window such as "22:00-06:00" (India time)."""

    def __init__(self, window: str) -> None:
        self._window = AgentHours(window)
        self.window = window

    def quiet_at(self, moment: datetime) -> bool:
        if self._window.start == self._window.end:
            return False  # "00:00-00:00" would silence the whole day: read it as "no quiet hours"
        return self._window.open_at(moment)

    def ends_after(self, moment: datetime) -> datetime:
        """The first minute at or after ``moment`` outside the quiet hours."""
        local = moment.astimezone(IST).replace(second=0, microsecond=0)
        for _ in range(24 * 60 + 1):
            if not self.quiet_at(local):
                return local
            local += timedelta(minutes=1)
        return local


def in_audience(recipient: Recipient, audience: Audience) -> bool:
    if recipient.language not in audience.languages:
        return False
    if not audience.states and not audience.constituencies:
        return True
    return (recipient.state is not None and recipient.state in audience.states) or (
        recipient.constituency is not None and recipient.constituency in audience.constituencies
    )


def silenced_constituency(recipient: Recipient, campaign: Campaign, schedule: Schedule, now: datetime) -> str | None:
    """The constituency whose silence period bars this message now, or None.

    Election material to a voter whose constituency we do not know is held while any
    constituency it could concern is silent: we cannot show it is lawful to send.
    """
    if not campaign.election_material:
        return None
    if recipient.constituency is not None:
        silent = schedule.in_silence_period(recipient.constituency, now)
        return recipient.constituency if silent else None
    candidates = schedule.constituencies
    if campaign.audience.states or campaign.audience.constituencies:
        candidates = tuple(
            c for c in candidates if c.state in campaign.audience.states or c.name in campaign.audience.constituencies
        )
    return UNKNOWN_CONSTITUENCY if any(c.in_silence_period(now) for c in candidates) else None


def hold(recipient: Recipient, campaign: Campaign, schedule: Schedule, quiet: QuietHours, now: datetime) -> Hold | None:
    """Why the message must not go to ``recipient`` at ``now``, or None when it may go."""
    if recipient.unreachable:
        return Hold(Status.UNREACHABLE)
    if recipient.channel not in BROADCAST_CHANNELS or (recipient.channel == "whatsapp" and campaign.whatsapp is None):
        return Hold(Status.NO_CHANNEL)  # WhatsApp: a business may write first with an approved template only
    silenced = silenced_constituency(recipient, campaign, schedule, now)
    if silenced:
        return Hold(Status.HELD_SILENCE, silenced)
    if quiet.quiet_at(now):
        return Hold(Status.HELD_QUIET)
    return None
