"""Voices and cameras: one's own microphone and camera (``media``), stepping away, and the
facilitators' mutes. Who may be heard at all is the floor's rule (``rooms.handlers.floor``)."""

from __future__ import annotations

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.handlers.floor import can_speak, release_if_holder
from rooms.handlers.registry import Context, rule
from rooms.handlers.seats import find_seat, unprotected_seat, update_person
from rooms.model import RoomState
from rooms.permissions import Capability


@rule(c.Media, Capability.TAKE_PART)
def media(state: RoomState, cmd: c.Media, ctx: Context) -> None:
    seat = state.seats[cmd.actor]
    person = seat.person
    if cmd.audio and not person.audio and not can_speak(state, seat):
        why = "a facilitator muted you" if person.muted_by_facilitator else "someone else has the floor"
        raise CommandError(ErrorCode.NOT_ALLOWED_TO_SPEAK, why)
    if cmd.video and not person.video and person.video_muted_by_facilitator:
        raise CommandError(ErrorCode.FORBIDDEN, "a facilitator turned your camera off")
    update_person(state, cmd.actor, audio=cmd.audio, video=cmd.video)


@rule(c.Away, Capability.TAKE_PART)
def away(state: RoomState, cmd: c.Away, ctx: Context) -> None:
    if cmd.away:
        update_person(state, cmd.actor, away=True, video=False)
        release_if_holder(state, cmd.actor)
    else:
        update_person(state, cmd.actor, away=False)


@rule(c.Mute, Capability.MUTE_OTHERS)
def mute(state: RoomState, cmd: c.Mute, ctx: Context) -> None:
    unprotected_seat(state, cmd.target)
    if cmd.video:
        update_person(
            state,
            cmd.target,
            audio=False,
            muted_by_facilitator=True,
            video=False,
            video_muted_by_facilitator=True,
        )
    else:
        update_person(state, cmd.target, audio=False, muted_by_facilitator=True)


@rule(c.MuteAll, Capability.MUTE_OTHERS)
def mute_all(state: RoomState, cmd: c.MuteAll, ctx: Context) -> None:
    for seat in state.admitted():
        if not seat.can(Capability.PROTECTED):
            update_person(state, seat.id, audio=False, muted_by_facilitator=True)


@rule(c.AllowSpeak, Capability.MUTE_OTHERS)
def allow_speak(state: RoomState, cmd: c.AllowSpeak, ctx: Context) -> None:
    find_seat(state, cmd.target)
    update_person(state, cmd.target, muted_by_facilitator=False, video_muted_by_facilitator=False)
