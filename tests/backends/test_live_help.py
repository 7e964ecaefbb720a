"""Help alerts and private replies through the live stores, with the real engine: memory and a
real Redis (where the state is stored whole, as msgpack, and the chat as a list beside it). A
node that did not write them reads the open alerts and a reply's ``to`` back as they were."""

from __future__ import annotations

from rooms import commands as c
from rooms.model import HelpAlert
from rooms.service import RoomService
from tests.backends.live_helpers import World
from tests.backends.test_live_chat import ROOM, loaded, service_on, session


async def test_alerts_and_replies_survive_the_store_and_reach_another_node(world: World) -> None:
    service = await session(world)
    await service.execute(ROOM, c.AskHelp(actor="m1", text="please", message_id="h1"))
    await service.execute(ROOM, c.AskHelp(actor="m1", text="please, now", message_id="h2"))
    await service.execute(ROOM, c.AskHelp(actor="m2", text="me too", message_id="h3"))
    await service.execute(ROOM, c.Chat(actor="f1", text="I'm here", message_id="r1", to="m1"))
    await service.execute(ROOM, c.Chat(actor="f1", text="hello all", message_id="g1"))
    other: RoomService = await service_on(await world.node("b"))
    state = await loaded(other)
    assert list(state.alerts) == ["m1", "m2"]
    first = state.alerts["m1"]
    assert isinstance(first, HelpAlert) and (first.text, first.count) == ("please, now", 2)
    reply = state.chat.find("r1")
    assert reply is not None and reply.to == "m1" and reply.private
    group = state.chat.find("g1")
    assert group is not None and not group.private
    assert [m.id for m in state.visible_chat(state.seats["m2"])] == ["h3", "g1"]
    assert [m.id for m in state.visible_chat(state.seats["m1"])] == ["h1", "h2", "r1", "g1"]
    await other.execute(ROOM, c.AckHelp(actor="f1", target="m1"))
    assert list((await loaded(service)).alerts) == ["m2"]
    await other.execute(ROOM, c.EndSession(actor="f1"))
    assert await service.state(ROOM) is None or (await loaded(service)).alerts == {}
