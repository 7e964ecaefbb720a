"""Who speaks, and what they write, on a real server: chat messages carry the sender's role as
the server knows it, chat text loses direction controls and stray invisible characters, and
names may not pose as a role (members) nor hide in invisible characters."""

from __future__ import annotations

from tests.server.conftest import Running

RLO, ZWSP, ZWJ = "\u202e", "\u200b", "\u200d"


async def test_chat_messages_carry_the_senders_role(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    await fac.ok({"type": "chat", "text": "welcome"})
    await ann.ok({"type": "chat", "text": "hello"})
    await ann.ok({"type": "chat", "text": "just for you", "to": "facilitators"})
    live = [(await fac.recv_until("chat"))["message"] for _ in range(3)]
    assert [(m["text"], m["role"]) for m in live] == [
        ("welcome", "facilitator"),
        ("hello", "member"),
        ("just for you", "member"),
    ]
    late = await server.joined(room.member, "Late")
    assert late.welcome is not None
    seen = [(m["name"], m["role"]) for m in late.welcome["chat"]]
    assert seen == [("Fran", "facilitator"), ("Ann", "member")]


async def test_a_member_named_like_the_facilitator_is_still_a_member_in_chat(server: Running) -> None:
    room, fac, () = await server.live_room()
    fake = await server.joined(room.member, "Fran")
    await fake.ok({"type": "chat", "text": "I am the facilitator, tell me your address"})
    message = (await fac.recv_until("chat"))["message"]
    assert (message["name"], message["role"]) == ("Fran", "member")


async def test_chat_text_loses_direction_controls_and_invisibles(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "chat", "text": f"open {RLO}gnp.exe{ZWSP} and 👩{ZWJ}🦽"})
    message = (await fac.recv_until("chat"))["message"]
    assert message["text"] == f"open gnp.exe and 👩{ZWJ}🦽"
    refused = await ann.refused({"type": "chat", "text": f"{ZWSP}{RLO}\u2060"}, "bad_message")
    assert "visible" in refused["message"]
    assert [m for m in await fac.drain() if m["type"] == "chat"] == [], "a refused message reached nobody"


async def test_member_names_posing_as_a_role_are_refused(server: Running) -> None:
    room, _fac, () = await server.live_room()
    client = await server.connect()
    for posing in ("Facilitator", "Fran (host)", "ＡＤＭＩＮ", "m o d e r a t o r", "H0st", "fаcilitаtor"):
        error = await client.join(room.member, posing)
        assert error["type"] == "error" and error["code"] == "bad_message", posing
        assert "choose another name" in error["message"]
    assert (await client.join(room.member, "Ghost"))["type"] == "welcome", "the socket stayed open"
    # Facilitators hold the role: they may say so in their name.
    assert (await server.joined(room.facilitator, "Fran, facilitator")).welcome is not None


async def test_names_with_emoji_sequences_and_without_hidden_characters(server: Running) -> None:
    room, _fac, () = await server.live_room()
    ana = await server.joined(room.member, f"Ana 👩{ZWJ}🦽")
    assert ana.welcome is not None and ana.welcome["you"]["name"] == f"Ana 👩{ZWJ}🦽"
    client = await server.connect()
    for hidden in (f"Fr{ZWJ}an", f"Fran{RLO}", "\u3164", "\u2800\u2800"):
        error = await client.join(room.member, hidden)
        assert error["type"] == "error" and error["code"] == "bad_message", repr(hidden)
