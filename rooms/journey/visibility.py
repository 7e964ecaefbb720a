"""Who sees what of the journey, asked by capability (``rooms.permissions.can``), never by role.

A ``Viewer`` is who asks: their role, and their ``sub`` when they came with a personal link
that is on the roster (``None``: a facilitator, or a shared link). Members see their own plans
and cards; the group sees what a member chose to share; facilitators see every plan
(``SEE_PLANS``) and individual cards only where the room says so (``SEE_CHECKINS`` and
``facilitators_see_checkins``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms.journey.model import ActionPlan, Strategy
from rooms.model import RoomConfig
from rooms.permissions import Capability, Role, can


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role
    sub: str | None = None  # a personal link on the roster

    def can(self, capability: Capability) -> bool:
        return can(self.role, capability)

    def owns(self, owner: str | None) -> bool:
        return self.sub is not None and owner == self.sub


def shared_with_group(plan: ActionPlan) -> bool:
    """The group sees a plan its owner shared, or whose review they shared."""
    return plan.shared or (plan.review is not None and plan.review.shared)


def sees_plan(viewer: Viewer, owner: str | None, plan: ActionPlan) -> bool:
    if viewer.owns(owner) or viewer.can(Capability.SEE_PLANS):
        return True
    return viewer.can(Capability.KEEP_JOURNEY) and viewer.sub is not None and shared_with_group(plan)


def may_cheer(viewer: Viewer, owner: str | None, plan: ActionPlan) -> bool:
    """Anyone keeping a journey who sees the plan may cheer a shared plan or a shared review."""
    return viewer.can(Capability.KEEP_JOURNEY) and shared_with_group(plan) and sees_plan(viewer, owner, plan)


def sees_card(viewer: Viewer, owner: str | None, config: RoomConfig) -> bool:
    """A check-in card: its member always; facilitators only where the room says so."""
    if viewer.owns(owner):
        return True
    return viewer.can(Capability.SEE_CHECKINS) and config.facilitators_see_checkins


def sees_post(viewer: Viewer, post: Strategy) -> bool:
    """Hidden posts only for those who moderate the board."""
    return not post.hidden or viewer.can(Capability.MODERATE_BOARD)


def sees_author(viewer: Viewer, owner: str | None, post: Strategy) -> bool:
    """Who wrote an anonymous post: its author and the moderators (for safety)."""
    return not post.anonymous or viewer.owns(owner) or viewer.can(Capability.MODERATE_BOARD)
