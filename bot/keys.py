"""Every Redis key the project uses, under one prefix.

Keys that belong to one conversation carry the conversation id in a hash tag
(``{tg:123}``) so that they share a Redis Cluster slot and can be changed in
one MULTI/EXEC.
"""

from __future__ import annotations

PREFIX = "samvad"


def voter(conversation_id: str) -> str:
    """Hash: the voter's profile and conversation mode."""
    return f"{PREFIX}:voter:{{{conversation_id}}}"


def transcript(conversation_id: str) -> str:
    """List of JSON turns (voter, bot, agent), trimmed and expiring."""
    return f"{PREFIX}:transcript:{{{conversation_id}}}"


def inbox(conversation_id: str) -> str:
    """List: the voter's messages not yet answered, processed in order."""
    return f"{PREFIX}:inbox:{{{conversation_id}}}"


def volunteer(conversation_id: str) -> str:
    """Hash: a volunteer sign-up (name, phone, area, consent time)."""
    return f"{PREFIX}:volunteer:{{{conversation_id}}}"


def consent(conversation_id: str) -> str:
    """Hash: the voter's current outreach consent state."""
    return f"{PREFIX}:consent:{{{conversation_id}}}"


def personal(conversation_id: str) -> list[str]:
    """Every per-voter key that holds personal data: "delete my data" removes them all.

    Not the inbox: a message the voter sends meanwhile must not be lost.
    """
    return [
        voter(conversation_id),
        transcript(conversation_id),
        volunteer(conversation_id),
        consent(conversation_id),
        apologized(conversation_id),
        waiting_notice(conversation_id),
        assignment(conversation_id),
        whatsapp_window(conversation_id),
        # short-lived counters that name the voter: gone with the rest (erasing resets them, as a new voter's)
        roll_lookups(conversation_id),
        voter_rate(conversation_id),
        voter_slow_down(conversation_id),
        deliveries(conversation_id),
    ]


def deliveries(conversation_id: str) -> str:
    """Sorted set: the conversation's deliveries already taken (delivery id -> when to forget it); bot/deliveries.py."""
    return f"{PREFIX}:deliveries:{{{conversation_id}}}"


def telegram_webhook(registration: str) -> str:
    """String with a TTL: one replica registered this webhook URL and secret (bot/app.py), the others skip it."""
    return f"{PREFIX}:tg:webhook:{registration}"


def telegram_update(update_id: int) -> str:
    """String set once per Telegram update_id that belongs to no private chat (a channel post), for de-duplication."""
    return f"{PREFIX}:tg:update:{update_id}"


def whatsapp_window(conversation_id: str) -> str:
    """String expiring 24 h after the voter's last message: WhatsApp's customer-service window is open."""
    return f"{PREFIX}:wa:window:{{{conversation_id}}}"


def whatsapp_receipt(wamid: str) -> str:
    """Hash: the delivery statuses already recorded for one of our WhatsApp messages (status -> unix time)."""
    return f"{PREFIX}:wa:receipt:{wamid}"


def whatsapp_sent(wamid: str) -> str:
    """Hash with a TTL: which campaign and language one of our WhatsApp messages belongs to."""
    return f"{PREFIX}:wa:sent:{wamid}"


# Sorted set: voters our WhatsApp number started a conversation with (conversation hash -> unix time), for the
# messaging tier's rolling 24 h (bot/outreach/whatsapp.py). Process-wide, touched alone.
WHATSAPP_TIER = f"{PREFIX}:wa:tier"
# Stream, capped: every WhatsApp delivery status (wamid, status, error codes, at); no phone numbers.
WHATSAPP_STATUSES = f"{PREFIX}:wa:statuses"


SUBSCRIBERS = f"{PREFIX}:subscribers"  # set of conversation ids with consent
CONSENT_LEDGER = f"{PREFIX}:consent:ledger"  # stream: every consent change
# Lists: messages Rasa could not answer, to replay, and those being replayed now (moved there with LMOVE, removed
# once back in their inbox). One hash tag, so LMOVE between them works on Redis Cluster too.
RETRY = f"{PREFIX}:{{retry}}"
RETRY_PROCESSING = f"{PREFIX}:{{retry}}:processing"
VOLUNTEERS = f"{PREFIX}:volunteers"  # set of conversation ids that signed up


def apologized(conversation_id: str) -> str:
    """String with a TTL: the voter already heard the 'assistant unavailable' apology."""
    return f"{PREFIX}:apologized:{{{conversation_id}}}"


def lane_lock(conversation_id: str) -> str:
    """String with a TTL: which gateway process works this conversation's inbox now."""
    return f"{PREFIX}:lane:{{{conversation_id}}}"


INBOX_PATTERN = f"{PREFIX}:inbox:*"
# Streams, trimmed by age: inbox messages that failed to process (fields conversation_id, raw, error, at), and
# replies that could not be sent after the channel's retries (conversation_id, channel, text, reason, at).
DEAD_LETTERS = f"{PREFIX}:dead:inbox"
OUTBOUND_DEAD = f"{PREFIX}:dead:outbound"
# Lists older gateways kept (the retry list without a hash tag, the inbox dead letters as a list): moved into the
# keys above once at start-up (bot/outage.py).
LEGACY_RETRY = f"{PREFIX}:retry"
LEGACY_DEAD_LETTERS = f"{PREFIX}:deadletter:inbox"


# Sorted set: conversations whose hand-off began (mode queued) but may lack their stream entry yet; score is
# when it began. Written before the transition and cleared after it, so a crash in between is repaired.
HANDOFF_PENDING = f"{PREFIX}:handoff:pending"
MAINTENANCE_LEASE = f"{PREFIX}:maintenance:lease"  # string with a TTL: the replica running maintenance now


def handoff_queue(language: str) -> str:
    """Stream: conversations waiting for a person who speaks `language`."""
    return f"{PREFIX}:handoff:{language}"


def waiting_notice(conversation_id: str) -> str:
    """String with a TTL: the queued voter was already told a person will reply."""
    return f"{PREFIX}:waiting:{{{conversation_id}}}"


def button_payload(token: str) -> str:
    """String: a button payload too long for Telegram's 64-byte callback data."""
    return f"{PREFIX}:button:{token}"


# Set of sha256(conversation id) of voters who erased their data: never contact them
# again, unless they opt in afresh (action_subscribe removes the marker).
SUPPRESSED = f"{PREFIX}:suppressed"


# --- human hand-off ---------------------------------------------------------------------------
HANDOFF_GROUP = "agents"  # consumer group on every hand-off stream
HANDOFF_DEAD = f"{PREFIX}:handoff:dead"  # stream: entries that kept failing, for supervisors
HANDLE_TIMES = f"{PREFIX}:handoff:handle_times"  # list: recent handle times in seconds (newest first)
# Set of conversations still paused in Rasa, from gateways before the "resume_pending" field of the
# voter hash; read once at start-up by VoterStore.upgrade_resume_pending, then gone.
LEGACY_RESUME_PENDING = f"{PREFIX}:handoff:resume_pending"
AGENTS = f"{PREFIX}:agents"  # set of agent names


def handoff_requeue(language: str) -> str:
    """List of stream entry ids taken back from a vanished agent: served before new entries."""
    return f"{PREFIX}:handoff:{language}:requeue"


def assignment(conversation_id: str) -> str:
    """Hash: which agent holds the conversation, and its queue entry."""
    return f"{PREFIX}:assignment:{{{conversation_id}}}"


def agent(name: str) -> str:
    """Hash: an agent's account (password hash, role, languages, capacity, disabled)."""
    return f"{PREFIX}:agent:{name}"


def agent_chats(name: str) -> str:
    """Set: conversation ids the agent holds now."""
    return f"{PREFIX}:agent:{name}:chats"


def agent_presence(name: str) -> str:
    """String with a short TTL, refreshed while the agent's console is connected: 'available' or 'away'."""
    return f"{PREFIX}:agent:{name}:presence"


def console_session(token: str) -> str:
    """Hash with a TTL: a logged-in console session."""
    return f"{PREFIX}:console:session:{token}"


def login_failures(name: str, address: str) -> str:
    """Counter with a TTL: console login attempts on one account name from one address (bot/console/auth.py)."""
    return f"{PREFIX}:console:failures:{name}:{address}"


def handled_on(day: str) -> str:
    """List: handle times (seconds) of conversations closed on `day` (YYYY-MM-DD, IST)."""
    return f"{PREFIX}:handoff:handled:{day}"


def dispositions_on(day: str) -> str:
    """Hash: how many conversations were closed with each disposition on `day` (IST)."""
    return f"{PREFIX}:handoff:dispositions:{day}"


def conversation_events(conversation_id: str) -> str:
    """Pub/sub channel: live events of one conversation, for the agent consoles of every gateway."""
    return f"{PREFIX}:events:{{{conversation_id}}}"


CONSOLE_EVENTS = f"{PREFIX}:events:console"  # pub/sub: queue changes, for every console

# --- call-back requests -------------------------------------------------------------------------
# Stream: one entry per call-back request, fields: conversation_id, phone (E.164, +91...), language,
# topic, transcript (JSON list of the last turns: {"who", "text"}), requested_at (unix seconds).
CALLBACKS = f"{PREFIX}:callbacks"


def callback_status(entry_id: str) -> str:
    """Hash: what call-centre staff did with a call-back request (status done|failed, by, at, note)."""
    return f"{PREFIX}:callback:{entry_id}"


# --- outreach campaigns -------------------------------------------------------------------------
# Recipients are stored by conversation_hash, never by conversation id: a campaign's progress
# holds no personal data, and "delete my data" leaves nothing behind in it.


def campaign(name: str) -> str:
    """Hash: a campaign's run facts (file, started_at, finished_at, rate, counts of the last run)."""
    return f"{PREFIX}:campaign:{{{name}}}"


def campaign_status(name: str) -> str:
    """Hash: conversation_hash -> what happened to that recipient (see bot.outreach.progress.Status)."""
    return f"{PREFIX}:campaign:{{{name}}}:status"


def campaign_lock(name: str) -> str:
    """String with a TTL: the process sending the campaign now (one sender per campaign)."""
    return f"{PREFIX}:campaign:{{{name}}}:lock"


def campaign_funnel(name: str) -> str:
    """Hash: WhatsApp delivery funnel of a campaign, '<language>:<status>' or '<language>:failed:<code>' -> count."""
    return f"{PREFIX}:campaign:{{{name}}}:funnel"


CAMPAIGNS = f"{PREFIX}:campaigns"  # set of campaign names that have been sent (for `campaign status`)

# --- content review ---------------------------------------------------------------------------
# Stream, capped: voter messages that ended in a fallback, out_of_scope or a hand-off, for the content
# team (bot/content/review.py). Fields: text (masked), intent, confidence, reason, language, at.
# No conversation id.
REVIEW = f"{PREFIX}:review"


# --- abuse limits (issue 14; docs/security.md) ---------------------------------------------------------------


def roll_lookups(conversation_id: str) -> str:
    """Counter with a TTL: electoral-roll look-ups by one conversation in the current window."""
    return f"{PREFIX}:limit:roll:{{{conversation_id}}}"


def voter_rate(conversation_id: str) -> str:
    """Counter with a TTL: messages from one voter in the current window (flood control)."""
    return f"{PREFIX}:limit:voter:{{{conversation_id}}}"


def voter_slow_down(conversation_id: str) -> str:
    """String with a TTL: the voter was told to slow down in this window (told once)."""
    return f"{PREFIX}:limit:told:{{{conversation_id}}}"


def ip_rate(address: str) -> str:
    """Counter with a TTL: web-chat messages from one IP address in the current window."""
    return f"{PREFIX}:limit:ip:{{ip:{address}}}"


def ip_slow_down(address: str) -> str:
    """String with a TTL: the address was told to slow down in this window (one script with `ip_rate`)."""
    return f"{PREFIX}:limit:ip:{{ip:{address}}}:told"




def login_failures_ip(address: str) -> str:
    """Counter with a TTL: console login attempts from one IP address, on any account."""
    return f"{PREFIX}:console:failures:ip:{address}"
