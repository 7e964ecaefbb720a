"""Signed tokens (JWT, HS256 only) and TURN REST credentials.

Two kinds of token share the server secret and are told apart by their ``kind`` claim:

- an **invite** (``kind: "invite"``) is what a link carries: room, role, the room's invite
  version ``v`` (rotating it revokes older member links), for facilitator links the room's
  facilitator version ``fv`` (rotating it revokes older facilitator links; a facilitator token
  without ``fv`` counts as version 1), optional ``sub`` (a personal invite) and ``name``.
  Invites minted by an external system that follows the wire contract may leave ``kind`` out;
  any other kind is refused.
- a **resume** token (``kind: "resume"``) comes with every ``welcome`` and lets a dropped
  participant reclaim its seat within the grace period. It is never accepted as an invite, nor an
  invite as a resume token.

Time checks use ``now`` (default: the clock), so tests need no sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from rooms.model import Role, RoomConfig

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
CLOCK_SKEW_SECONDS = 60  # tolerated for iat/nbf of tokens minted on another machine; never for exp
INVITE = "invite"
RESUME = "resume"


class TokenError(Exception):
    """A token that must not be trusted: malformed, badly signed, of the wrong kind or expired."""


class TokenExpired(TokenError):
    """A well-signed token whose ``exp`` has passed."""


@dataclass(frozen=True, slots=True)
class InviteClaims:
    room: str
    role: Role
    version: int
    jti: str
    sub: str | None
    name: str | None
    exp: int
    facilitator_version: int = 1

    def current_for(self, config: RoomConfig) -> bool:
        """Whether the room still honours this link: a member link of its current invite
        version, a facilitator link of its current facilitator version."""
        if self.role is Role.FACILITATOR:
            return self.facilitator_version == config.facilitator_version
        return self.version == config.invite_version


@dataclass(frozen=True, slots=True)
class ResumeClaims:
    room: str
    participant: str
    session: str | None
    gen: int


def mint_invite(
    secret: str | bytes,
    *,
    room: str,
    role: Role | str,
    version: int,
    ttl_seconds: float,
    sub: str | None = None,
    name: str | None = None,
    now: float | None = None,
    facilitator_version: int | None = None,
) -> str:
    """An invite token for ``room`` with ``role`` (``facilitator`` or ``member``); facilitator
    tokens carry ``facilitator_version`` as ``fv`` when given."""
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "kind": INVITE,
        "room": room,
        "role": Role(role).value,
        "v": version,
        "iat": int(issued),
        "exp": int(issued + ttl_seconds),
        "jti": secrets.token_urlsafe(12),
    }
    if facilitator_version is not None and Role(role) is Role.FACILITATOR:
        claims["fv"] = facilitator_version
    if sub is not None:
        claims["sub"] = sub
    if name is not None:
        claims["name"] = name
    return _encode(secret, claims)


def verify_invite(secret: str | bytes, token: str, *, now: float | None = None) -> InviteClaims:
    """The claims of a valid invite; ``TokenError`` (or ``TokenExpired``) otherwise."""
    claims = _decode(secret, token, now)
    if claims.get("kind", INVITE) != INVITE:
        raise TokenError("not an invite token")
    role = _string(claims, "role")
    if role not in {r.value for r in Role}:
        raise TokenError(f"unknown role {role!r}")
    version = _integer(claims, "v")
    if version < 1:
        raise TokenError("invalid invite version")
    facilitator_version = _integer(claims, "fv") if "fv" in claims else 1
    if facilitator_version < 1:
        raise TokenError("invalid facilitator version")
    jti = claims.get("jti", "")
    if not isinstance(jti, str):
        raise TokenError("invalid jti claim")
    return InviteClaims(
        room=_string(claims, "room"),
        role=Role(role),
        version=version,
        jti=jti,
        sub=_optional_string(claims, "sub"),
        name=_optional_string(claims, "name"),
        exp=int(_number(claims, "exp")),
        facilitator_version=facilitator_version,
    )


def mint_resume(
    secret: str | bytes,
    *,
    room: str,
    participant: str,
    session: str | None,
    gen: int,
    ttl_seconds: float,
    now: float | None = None,
) -> str:
    """A resume token for ``participant``; ``gen`` makes it single-use (the seat keeps the current
    generation and bumps it on every resume)."""
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "kind": RESUME,
        "room": room,
        "participant": participant,
        "session": session,
        "gen": gen,
        "iat": int(issued),
        "exp": int(issued + ttl_seconds),
        "jti": secrets.token_urlsafe(12),
    }
    return _encode(secret, claims)


def verify_resume(secret: str | bytes, token: str, *, now: float | None = None) -> ResumeClaims:
    """The claims of a valid resume token; ``TokenError`` (or ``TokenExpired``) otherwise."""
    claims = _decode(secret, token, now)
    if claims.get("kind") != RESUME:
        raise TokenError("not a resume token")
    if "session" not in claims:
        raise TokenError("missing session claim")
    return ResumeClaims(
        room=_string(claims, "room"),
        participant=_string(claims, "participant"),
        session=_optional_string(claims, "session"),
        gen=_integer(claims, "gen"),
    )


def turn_credentials(
    secret: str | bytes | None,
    urls: Sequence[str],
    participant_id: str,
    ttl_seconds: float,
    now: float,
) -> list[dict[str, object]]:
    """``RTCIceServer`` dicts with time-limited credentials (the TURN REST scheme coturn's
    ``--use-auth-secret`` checks): ``username = "<expiry>:<id>"``,
    ``credential = base64(hmac_sha1(secret, username))``. Empty without URLs or secret."""
    if not urls or not secret:
        return []
    username = f"{int(now + ttl_seconds)}:{participant_id}"
    digest = hmac.new(_bytes(secret), username.encode(), hashlib.sha1).digest()
    credential = base64.b64encode(digest).decode("ascii")
    return [{"urls": list(urls), "username": username, "credential": credential}]


# Helpers


def _bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _key(secret: str | bytes) -> bytes:
    key = _bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes long")
    return key


def _encode(secret: str | bytes, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _key(secret), algorithm=ALGORITHM)


def _decode(secret: str | bytes, token: str, now: float | None) -> dict[str, Any]:
    """Check signature, algorithm and times; the caller checks the claims of its kind."""
    key = _key(secret)
    if not isinstance(token, str) or not token:
        raise TokenError("missing token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={
                "require": ["exp"],
                # Times are checked below against `now`, so tests can move the clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    current = time.time() if now is None else now
    if _number(claims, "exp") <= current:
        raise TokenExpired("token expired")
    for claim in ("iat", "nbf"):
        if claim in claims and _number(claims, claim) > current + CLOCK_SKEW_SECONDS:
            raise TokenError(f"token not valid yet ({claim})")
    return claims


def _string(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenError(f"missing or invalid {name} claim")
    return value


def _optional_string(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenError(f"invalid {name} claim")
    return value


def _integer(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TokenError(f"missing or invalid {name} claim")
    return value


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"missing or invalid {name} claim")
    return float(value)
