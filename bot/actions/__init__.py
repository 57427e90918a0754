"""Samvad's custom actions, served by rasa-sdk behind a shared secret: ``python -m bot.actions.server`` (server.py).

The only package in ``bot`` that knows rasa-sdk.  Actions hold no sentences:
they send responses from ``domain.yml`` by name (``utter_*``), with values
such as a station name filled in.

- ``session``: session start, the ``language`` slot, change of language
- ``handoff``: hand-off to a person (contract in ``bot/handoff``)
- ``polling``: polling station and voter-list look-ups (EPIC number / PIN code forms)
- ``elections``: the election schedule
- ``volunteer``: volunteer sign-up form
- ``callback``: call-back request form (phone number with consent, queued for call-centre staff)
- ``consent``: subscribe / unsubscribe to updates
- ``privacy``: delete my data
- ``sources``: where the previous answer comes from (``sources.yml``)
- ``review``: keep messages that fell back, were out of scope or led to a hand-off, for the content team
"""

from bot.actions import callback, consent, elections, handoff, polling, privacy, review, session, sources, volunteer

__all__ = [
    "callback", "consent", "elections", "handoff", "polling", "privacy", "review", "session", "sources", "volunteer",
]  # fmt: skip
