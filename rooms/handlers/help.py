""" "Need help now?": a member's request becomes an open alert for those who may answer help
(``Capability.ANSWER_HELP``) and a private chat line to the facilitators; "I'm on it" closes it.

An alert is the one thing a person in distress sends, so it must not get lost: it is kept in
the live state (``RoomState.alerts``), not only sent, so a facilitator who reconnects, or a
co-facilitator who joins later, finds it in their ``welcome``. It stays when its asker
disconnects or leaves (the facilitator may still need to follow up) and goes with the session.
"""

from __future__ import annotations

from msgspec.structs import replace

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import Delivery, HelpAlertRaised, HelpClosed
from rooms.handlers.chat import check_text, cleaned, post
from rooms.handlers.registry import Context, rule
from rooms.model import ChatMessage, HelpAlert, RoomState
from rooms.permissions import Capability


def helpers(state: RoomState) -> tuple[str, ...]:
    """Those who receive alerts: admitted participants who may answer help."""
    return tuple(s.id for s in state.admitted() if s.can(Capability.ANSWER_HELP))


def alerts_view(state: RoomState) -> list[HelpAlert]:
    """The open alerts, oldest first, as ``welcome.help_alerts`` carries them."""
    return sorted(state.alerts.values(), key=lambda a: (a.first_at, a.id))


def _make_room(state: RoomState) -> None:
    """Keep the alerts within the seat limit (``max_participants``) before a new one: there are
    never more open alerts than people the room can hold. The first to go is the oldest of
    someone no longer here; only if everyone who asked is still here (facilitators can be
    beyond the limit), the oldest of all."""
    limit = state.room.max_participants
    while len(state.alerts) >= limit:
        gone = [a for a in state.alerts.values() if a.id not in state.seats]
        oldest = min(gone or state.alerts.values(), key=lambda a: (a.last_at, a.id))
        del state.alerts[oldest.id]


@rule(c.AskHelp, Capability.TAKE_PART, settles=False, check=check_text)
def ask_help(state: RoomState, cmd: c.AskHelp, ctx: Context) -> None:
    asker = state.seats[cmd.actor]
    text = cleaned(cmd.text)
    known = state.alerts.get(cmd.actor)
    if known is None:
        _make_room(state)
        alert = HelpAlert(id=cmd.actor, name=asker.person.name, text=text, first_at=ctx.now, last_at=ctx.now)
    else:  # asking again: the same alert, with the newest words
        alert = replace(known, name=asker.person.name, text=text, last_at=ctx.now, count=known.count + 1)
    state.alerts[cmd.actor] = alert
    line = ChatMessage(
        id=cmd.message_id,
        sender=cmd.actor,
        name=asker.person.name,
        text=text,
        ts=ctx.now,
        private=True,
        role=asker.person.role,
    )
    post(state, ctx, line, cmd.max_messages, cmd.max_bytes)
    to = helpers(state)
    if to:
        ctx.deliveries.append(Delivery(HelpAlertRaised(alert=alert), to=to))


@rule(c.AckHelp, Capability.ANSWER_HELP, settles=False)
def ack_help(state: RoomState, cmd: c.AckHelp, ctx: Context) -> None:
    if cmd.target not in state.alerts:
        raise CommandError(ErrorCode.INVALID_TARGET, "nobody with that id is waiting for help")
    del state.alerts[cmd.target]
    to = helpers(state)
    if to:
        ctx.deliveries.append(Delivery(HelpClosed(id=cmd.target, by=cmd.actor), to=to))
    asker = state.seats.get(cmd.target)
    if asker is not None and asker.admitted and cmd.target not in to:
        # The asker learns that someone is on it, not who: whoever acknowledged may not be the
        # one who follows up (co-facilitators share the work).
        ctx.deliveries.append(Delivery(HelpClosed(id=cmd.target), to=(cmd.target,)))
