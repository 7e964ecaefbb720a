"""Invite and resume tokens, and TURN REST credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rooms.model import Role, RoomConfig
from server.tokens import (
    InviteClaims,
    ResumeClaims,
    TokenError,
    TokenExpired,
    mint_invite,
    mint_resume,
    turn_credentials,
    verify_invite,
    verify_resume,
)

SECRET = "a-test-secret-that-is-long-enough-for-hs256-and-even-for-hs512-signing"
NOW = 1_700_000_000.0
HOUR = 3600


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def invite_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "kind": "invite",
        "room": "r1",
        "role": "member",
        "v": 1,
        "iat": int(NOW),
        "exp": int(NOW + HOUR),
        "jti": "j1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def test_invite_round_trip() -> None:
    token = mint_invite(
        SECRET, room="r1", role=Role.FACILITATOR, version=3, ttl_seconds=HOUR, sub="p-7", name="Sam", now=NOW
    )
    claims = verify_invite(SECRET, token, now=NOW + 1)
    assert claims == InviteClaims(
        room="r1",
        role=Role.FACILITATOR,
        version=3,
        jti=claims.jti,
        sub="p-7",
        name="Sam",
        exp=int(NOW + HOUR),
    )
    assert claims.jti
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert payload["kind"] == "invite"
    assert (payload["iat"], payload["exp"], payload["v"]) == (int(NOW), int(NOW + HOUR), 3)


def test_shared_invite_has_no_sub_and_fresh_jti() -> None:
    first = mint_invite(SECRET, room="r1", role="member", version=1, ttl_seconds=HOUR)
    second = mint_invite(SECRET, room="r1", role="member", version=1, ttl_seconds=HOUR)
    a, b = verify_invite(SECRET, first), verify_invite(SECRET, second)
    assert (a.sub, a.name, a.role) == (None, None, Role.MEMBER)
    assert a.jti != b.jti


def test_alg_none_is_refused() -> None:
    with pytest.raises(TokenError):
        verify_invite(SECRET, unsigned(invite_claims()), now=NOW)


def test_other_algorithms_are_refused_even_with_the_right_secret() -> None:
    with pytest.raises(TokenError):
        verify_invite(SECRET, signed(invite_claims(), alg="HS512"), now=NOW)


def test_wrong_secret_is_refused() -> None:
    token = mint_invite(
        "another-secret-that-is-long-enough-too",
        room="r1",
        role="member",
        version=1,
        ttl_seconds=HOUR,
        now=NOW,
    )
    with pytest.raises(TokenError):
        verify_invite(SECRET, token, now=NOW)


def test_tampered_payload_is_refused() -> None:
    token = mint_invite(SECRET, room="r1", role="member", version=1, ttl_seconds=HOUR, now=NOW)
    header, _, signature = token.split(".")
    forged = b64(json.dumps(invite_claims(role="facilitator")).encode())
    with pytest.raises(TokenError):
        verify_invite(SECRET, f"{header}.{forged}.{signature}", now=NOW)


def test_expired_is_refused() -> None:
    token = mint_invite(SECRET, room="r1", role="member", version=1, ttl_seconds=HOUR, now=NOW)
    verify_invite(SECRET, token, now=NOW + HOUR - 1)
    with pytest.raises(TokenExpired):
        verify_invite(SECRET, token, now=NOW + HOUR)
    with pytest.raises(TokenExpired):
        verify_invite(SECRET, token)  # minted in 2023: long expired by the real clock


def test_missing_exp_is_refused() -> None:
    with pytest.raises(TokenError):
        verify_invite(SECRET, signed(invite_claims(exp=None)), now=NOW)


def test_token_from_the_future_is_refused() -> None:
    with pytest.raises(TokenError, match="not valid yet"):
        verify_invite(SECRET, signed(invite_claims(iat=int(NOW + HOUR), exp=int(NOW + 2 * HOUR))), now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"room": None},
        {"room": ""},
        {"room": 5},
        {"role": None},
        {"role": "admin"},
        {"v": None},
        {"v": "1"},
        {"v": True},
        {"v": 0},
        {"sub": 12},
        {"name": ["Sam"]},
        {"jti": 3},
        {"exp": "tomorrow"},
        {"kind": "resume"},
        {"kind": "session"},
        {"fv": "2"},
        {"fv": 0},
        {"fv": True},
    ],
)
def test_invalid_invite_claims_are_refused(changes: dict[str, Any]) -> None:
    claims = invite_claims()
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    with pytest.raises(TokenError):
        verify_invite(SECRET, signed(claims), now=NOW)


def test_externally_minted_invite_without_kind_is_accepted() -> None:
    claims = verify_invite(SECRET, signed(invite_claims(kind=None, jti=None)), now=NOW)
    assert (claims.room, claims.role, claims.version, claims.jti) == ("r1", Role.MEMBER, 1, "")


def test_resume_round_trip() -> None:
    token = mint_resume(SECRET, room="r1", participant="p1", session="s1", gen=4, ttl_seconds=60, now=NOW)
    assert verify_resume(SECRET, token, now=NOW + 59) == ResumeClaims(
        room="r1", participant="p1", session="s1", gen=4
    )
    with pytest.raises(TokenExpired):
        verify_resume(SECRET, token, now=NOW + 60)


def test_resume_without_session() -> None:
    token = mint_resume(SECRET, room="r1", participant="p1", session=None, gen=0, ttl_seconds=60, now=NOW)
    assert verify_resume(SECRET, token, now=NOW).session is None


def test_resume_token_is_not_an_invite_and_an_invite_is_not_a_resume_token() -> None:
    resume = mint_resume(SECRET, room="r1", participant="p1", session="s1", gen=0, ttl_seconds=60, now=NOW)
    invite = mint_invite(SECRET, room="r1", role="facilitator", version=1, ttl_seconds=60, now=NOW)
    with pytest.raises(TokenError):
        verify_invite(SECRET, resume, now=NOW)
    with pytest.raises(TokenError):
        verify_resume(SECRET, invite, now=NOW)
    # Even an invite that carries resume-like claims is not a resume token.
    with pytest.raises(TokenError):
        verify_resume(SECRET, signed(invite_claims(participant="p1", session="s1", gen=0)), now=NOW)


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "...."])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(TokenError):
        verify_invite(SECRET, token, now=NOW)
    with pytest.raises(TokenError):
        verify_resume(SECRET, token, now=NOW)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        mint_invite("short", room="r1", role="member", version=1, ttl_seconds=60)


@given(
    room=st.text(min_size=1, max_size=30),
    name=st.none() | st.text(max_size=40),
    sub=st.none() | st.text(max_size=40),
    version=st.integers(min_value=1, max_value=2**31),
)
def test_invite_claims_survive_any_text(room: str, name: str | None, sub: str | None, version: int) -> None:
    token = mint_invite(SECRET, room=room, role="member", version=version, ttl_seconds=60, sub=sub, name=name)
    claims = verify_invite(SECRET, token)
    assert (claims.room, claims.name, claims.sub, claims.version) == (room, name, sub, version)


def test_turn_credentials_match_an_independent_hmac() -> None:
    urls = ["turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"]
    servers = turn_credentials("turn-shared-secret", urls, "p-42", 600, NOW)
    expiry = int(NOW) + 600
    username = f"{expiry}:p-42"
    expected = base64.b64encode(hmac.new(b"turn-shared-secret", username.encode(), hashlib.sha1).digest())
    assert servers == [{"urls": urls, "username": username, "credential": expected.decode()}]


def test_turn_credentials_expire_in_the_future() -> None:
    now = time.time()
    [server] = turn_credentials("s", ["turn:127.0.0.1:3478"], "p", 3600, now)
    assert int(str(server["username"]).split(":")[0]) > now


@pytest.mark.parametrize(("secret", "urls"), [(None, ["turn:x:3478"]), ("", ["turn:x:3478"]), ("s", [])])
def test_no_turn_credentials_without_urls_or_secret(secret: str | None, urls: list[str]) -> None:
    assert turn_credentials(secret, urls, "p", 600, NOW) == []


def test_facilitator_links_carry_their_own_version() -> None:
    """``fv`` is the room's facilitator version; a facilitator token without it (minted before
    facilitator links could be rotated) counts as version 1. Member tokens never carry it."""
    room = RoomConfig(id="r1", title="Tuesdays", invite_version=4, facilitator_version=2)
    current = mint_invite(
        SECRET, room="r1", role=Role.FACILITATOR, version=4, ttl_seconds=HOUR, facilitator_version=2, now=NOW
    )
    older = mint_invite(
        SECRET, room="r1", role=Role.FACILITATOR, version=4, ttl_seconds=HOUR, facilitator_version=1, now=NOW
    )
    unversioned = mint_invite(SECRET, room="r1", role=Role.FACILITATOR, version=4, ttl_seconds=HOUR, now=NOW)
    member = mint_invite(
        SECRET, room="r1", role=Role.MEMBER, version=4, ttl_seconds=HOUR, facilitator_version=2, now=NOW
    )
    assert jwt.decode(current, SECRET, algorithms=["HS256"], options={"verify_exp": False})["fv"] == 2
    assert "fv" not in jwt.decode(member, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert verify_invite(SECRET, current, now=NOW).current_for(room)
    assert not verify_invite(SECRET, older, now=NOW).current_for(room)
    assert verify_invite(SECRET, unversioned, now=NOW).facilitator_version == 1
    assert not verify_invite(SECRET, unversioned, now=NOW).current_for(room)
    never_rotated = RoomConfig(id="r1", title="t", invite_version=4)
    assert verify_invite(SECRET, unversioned, now=NOW).current_for(never_rotated)
    # A member link follows the invite version only; the facilitator version does not touch it.
    assert verify_invite(SECRET, member, now=NOW).current_for(room)
    rotated_members = RoomConfig(id="r1", title="t", invite_version=5, facilitator_version=2)
    assert not verify_invite(SECRET, member, now=NOW).current_for(rotated_members)
    assert verify_invite(SECRET, current, now=NOW).current_for(rotated_members)
