"""The group's journey over HTTP: every route under ``/api/rooms/{room_id}/journey``
(docs/protocol.md §12, docs/journey.md).

The routes live by topic: ``journey_members`` (overview, roster, my data), ``journey_plans``,
``journey_board``, ``journey_checkins``; ``journey_auth`` says who asks and holds what they
share. ``server.app`` appends ``ROUTES`` to its own.
"""

from __future__ import annotations

from starlette.routing import Route

from server import journey_board as board
from server import journey_checkins as checkins
from server import journey_members as members
from server import journey_plans as plans

BASE = "/api/rooms/{room_id}/journey"

ROUTES = [
    Route(BASE, members.overview, methods=["GET"]),
    Route(f"{BASE}/members", members.list_members, methods=["GET"]),
    Route(f"{BASE}/members", members.add_member, methods=["POST"]),
    Route(f"{BASE}/members/{{sub}}/link", members.new_link, methods=["POST"]),
    Route(f"{BASE}/members/{{sub}}/data", members.delete_member_data, methods=["DELETE"]),
    Route(f"{BASE}/members/{{sub}}", members.remove_member, methods=["DELETE"]),
    Route(f"{BASE}/me", members.my_data, methods=["GET"]),
    Route(f"{BASE}/me/data", members.delete_my_data, methods=["DELETE"]),
    Route(f"{BASE}/me", members.leave_group, methods=["DELETE"]),
    Route(f"{BASE}/plans", plans.list_plans, methods=["GET"]),
    Route(f"{BASE}/plans", plans.add_plan, methods=["POST"]),
    Route(f"{BASE}/plans/{{pid}}", plans.change_plan, methods=["PATCH"]),
    Route(f"{BASE}/plans/{{pid}}", plans.delete_plan, methods=["DELETE"]),
    Route(f"{BASE}/plans/{{pid}}/review", plans.review_plan, methods=["POST"]),
    Route(f"{BASE}/plans/{{pid}}/cheer", plans.cheer, methods=["PUT"]),
    Route(f"{BASE}/plans/{{pid}}/cheer", plans.uncheer, methods=["DELETE"]),
    Route(f"{BASE}/board", board.board, methods=["GET"]),
    Route(f"{BASE}/board", board.add_post, methods=["POST"]),
    Route(f"{BASE}/board/{{post}}", board.change_post, methods=["PATCH"]),
    Route(f"{BASE}/board/{{post}}", board.delete_post, methods=["DELETE"]),
    Route(f"{BASE}/board/{{post}}/helped", board.helped, methods=["PUT"]),
    Route(f"{BASE}/board/{{post}}/helped", board.unhelped, methods=["DELETE"]),
    Route(f"{BASE}/board/{{post}}/saved", board.save, methods=["PUT"]),
    Route(f"{BASE}/board/{{post}}/saved", board.unsave, methods=["DELETE"]),
    Route(f"{BASE}/toolkit", board.toolkit, methods=["GET"]),
    Route(f"{BASE}/checkins/mine", checkins.my_cards, methods=["GET"]),
    Route(f"{BASE}/checkins/summary", checkins.summaries, methods=["GET"]),
    Route(f"{BASE}/checkins/summary", checkins.close_round, methods=["POST"]),
    Route(f"{BASE}/checkins", checkins.session_cards, methods=["GET"]),
    Route(f"{BASE}/checkins/{{kind}}", checkins.put_card, methods=["PUT"]),
    Route(f"{BASE}/checkins/{{kind}}", checkins.delete_card, methods=["DELETE"]),
]
