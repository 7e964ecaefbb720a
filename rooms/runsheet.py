"""Run-sheet templates: ready-made session plans a facilitator starts from and then edits.

``TEMPLATES`` maps a key to a label and its phases. The console offers them
(``GET /api/runsheet/templates``, ``server/runsheet_api.py``); choosing one copies its phases into
the room's ``run_sheet`` (``PATCH /api/rooms/{id}``), where the facilitator changes what they like.
The notes are a facilitator's script, seen only with ``SEE_SCRIPT``: short reminders, in the
calm voice of the group, that passing is always allowed and nobody is ever cut off.

The group CBT plan for chronic pain follows the usual session shape (check-in round, review of
last week's goals, topic, skill practice, sharing, goal setting, check-out; 75-90 minutes).
"""

from __future__ import annotations

from rooms.model import FloorMode, Phase, PhaseKind

_PASS = "Passing is always fine."

CBT_PAIN: tuple[Phase, ...] = (
    Phase(
        name="Check-in round",
        minutes=10,
        kind=PhaseKind.CHECK_IN,
        floor=FloorMode.CIRCLE,
        notes=(
            "Welcome everyone and go round the circle: a word or two on how the week has been. "
            f"{_PASS} The private check-in card is there for anyone who wants it."
        ),
    ),
    Phase(
        name="Review of last week's goals",
        minutes=10,
        kind=PhaseKind.REVIEW,
        floor=FloorMode.QUEUE,
        notes=(
            "Invite people to look at last week's action plan: done, partly, or changed. "
            "A changed plan is learning, not failure; celebrate small steps."
        ),
    ),
    Phase(
        name="Topic",
        minutes=15,
        kind=PhaseKind.TOPIC,
        floor=FloorMode.OPEN,
        notes=(
            "Introduce this week's topic (for example pacing, or thoughts and pain) in plain words. "
            "Keep it short and leave room for questions."
        ),
    ),
    Phase(
        name="Skill practice",
        minutes=15,
        kind=PhaseKind.PRACTICE,
        notes=(
            "Practise the skill together, at everyone's own pace. "
            "Anyone may watch instead of joining in, and move or stretch whenever they need to."
        ),
    ),
    Phase(
        name="Sharing",
        minutes=15,
        kind=PhaseKind.SHARING,
        floor=FloorMode.QUEUE,
        notes=(
            "Hands up to share what came up, one at a time. "
            "Thank each person; let the group respond gently before moving on."
        ),
    ),
    Phase(
        name="Goal setting",
        minutes=10,
        kind=PhaseKind.GOALS,
        notes=(
            "Each person may write a small action plan: what, how much, when, how often. "
            "If confidence is below 7, help make it a little smaller. Sharing a plan is optional."
        ),
    ),
    Phase(
        name="Check-out round",
        minutes=10,
        kind=PhaseKind.CHECK_OUT,
        floor=FloorMode.CIRCLE,
        notes=(
            f"Go round once more: one thing to take away from today. {_PASS} "
            "Remind everyone when the group meets next."
        ),
    ),
)

PEER_SUPPORT: tuple[Phase, ...] = (
    Phase(
        name="Welcome and check-in round",
        minutes=15,
        kind=PhaseKind.CHECK_IN,
        floor=FloorMode.CIRCLE,
        notes=f"Read the group agreement aloud, then go round: how is everyone arriving today? {_PASS}",
    ),
    Phase(
        name="Open sharing",
        minutes=35,
        kind=PhaseKind.SHARING,
        floor=FloorMode.QUEUE,
        notes=(
            "Hands up to speak, one at a time. Listen without fixing; "
            "gently invite quieter members without putting anyone on the spot."
        ),
    ),
    Phase(
        name="What helped this week",
        minutes=15,
        kind=PhaseKind.TOPIC,
        floor=FloorMode.OPEN,
        notes="Invite coping strategies that worked, big or small. Suggest adding them to the group's board.",
    ),
    Phase(
        name="Check-out round",
        minutes=10,
        kind=PhaseKind.CHECK_OUT,
        floor=FloorMode.CIRCLE,
        notes=f"One word or one sentence each to close. {_PASS} Thank the group for coming.",
    ),
)

MINDFULNESS: tuple[Phase, ...] = (
    Phase(
        name="Arriving",
        minutes=5,
        kind=PhaseKind.OTHER,
        notes="Settle in together. Invite people to find a comfortable position, cameras on or off.",
    ),
    Phase(
        name="Check-in round",
        minutes=10,
        kind=PhaseKind.CHECK_IN,
        floor=FloorMode.CIRCLE,
        notes=f"Go round: a word for how the body feels right now. {_PASS}",
    ),
    Phase(
        name="Guided practice",
        minutes=20,
        kind=PhaseKind.PRACTICE,
        floor=FloorMode.QUEUE,
        notes=(
            "Guide a body scan or breathing practice in a slow, steady voice. "
            "Remind people they can open their eyes, move or stop at any time."
        ),
    ),
    Phase(
        name="Reflection",
        minutes=15,
        kind=PhaseKind.SHARING,
        floor=FloorMode.QUEUE,
        notes="Hands up to say what was noticed. There is no right way to have done the practice.",
    ),
    Phase(
        name="Check-out round",
        minutes=10,
        kind=PhaseKind.CHECK_OUT,
        floor=FloorMode.CIRCLE,
        notes=f"One thing to bring into the week. {_PASS}",
    ),
)

TEMPLATES: dict[str, tuple[str, tuple[Phase, ...]]] = {
    "cbt_pain": ("Group CBT for pain (85 min)", CBT_PAIN),
    "peer_support": ("Peer support (75 min)", PEER_SUPPORT),
    "mindfulness": ("Mindfulness practice (60 min)", MINDFULNESS),
}


def templates_view() -> list[dict[str, object]]:
    """The templates as the console reads them: key, label, and the phases with their notes."""
    return [
        {"key": key, "label": label, "phases": [_phase_json(p) for p in phases]}
        for key, (label, phases) in TEMPLATES.items()
    ]


def _phase_json(phase: Phase) -> dict[str, object]:
    return {
        "name": phase.name,
        "minutes": phase.minutes,
        "kind": phase.kind,
        "floor": phase.floor,
        "notes": phase.notes,
    }
