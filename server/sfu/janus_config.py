"""The Janus configuration Hearth runs its media servers with, written into a folder of its own.

Debian's stock ``/etc/janus`` serves the HTTP API on every interface, loads every plugin and
transport, and uses well-known default secrets: anyone who reaches the host can create rooms or
read who is in them. Hearth generates instead a folder with exactly what it needs:

- only the VideoRoom plugin and the WebSocket transport, bound to one address (the compose
  internal network, or 127.0.0.1 in tests); the admin API is off everywhere;
- ``api_secret`` on every request, and the same secret as the VideoRoom ``admin_key`` (needed
  to create rooms) so one secret (``HEARTH_JANUS_SECRET``) guards both;
- the RTP port range (published by the deployment), the address written in SDP, and optionally
  a 1:1 NAT mapping (cloud VMs) and an ICE interface list.

Start Janus with ``janus -F DIR``. ``hearth janus-config DIR`` calls :func:`run_janus_config`.
"""

from __future__ import annotations

import argparse
import glob
import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

SECRET_ENV = "HEARTH_JANUS_SECRET"
SECRET_MIN_CHARS = 16
DEFAULT_RTP_PORTS = (20000, 20199)
DEFAULT_SESSION_TIMEOUT = 60  # seconds without a keepalive before Janus drops a session

# What Debian's janus 1.1.2 ships; anything else found in the install folders is disabled too.
KEPT_PLUGIN = "libjanus_videoroom.so"
KEPT_TRANSPORT = "libjanus_websockets.so"
KNOWN_PLUGINS = (
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_voicemail.so",
)
KNOWN_TRANSPORTS = (
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
)
KNOWN_EVENT_HANDLERS = (
    "libjanus_gelfevh.so",
    "libjanus_mqttevh.so",
    "libjanus_nanomsgevh.so",
    "libjanus_rabbitmqevh.so",
    "libjanus_sampleevh.so",
    "libjanus_wsevh.so",
)
KNOWN_LOGGERS = ("libjanus_jsonlog.so",)
INSTALL_GLOB = "/usr/lib/*/janus/{kind}/libjanus_*.so"


@dataclass(frozen=True, kw_only=True)
class JanusConfig:
    """What varies between deployments; everything else is fixed by Hearth."""

    secret: str
    ws_host: str = "127.0.0.1"
    ws_port: int = 8188
    rtp_ports: tuple[int, int] = DEFAULT_RTP_PORTS
    interface: str = "127.0.0.1"  # the address Janus writes in SDP (c= lines)
    nat_1_1_mapping: str | None = None  # the public address, behind 1:1 NAT
    ice_enforce_list: str | None = None  # interfaces (or prefixes) ICE may use
    session_timeout: int = DEFAULT_SESSION_TIMEOUT

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the Janus secret is empty")
        for name, value in (("secret", self.secret), ("ice_enforce_list", self.ice_enforce_list or "")):
            if any(not ch.isprintable() or ch in '"\\' for ch in value):
                raise ValueError(f"the Janus {name} must be printable, without quotes or backslashes")
        for address in (self.ws_host, self.interface, self.nat_1_1_mapping):
            if address is not None:
                ipaddress.ip_address(address)  # ValueError names the bad address
        if ipaddress.ip_address(self.ws_host).is_unspecified:
            # The stock config's flaw: the API on every interface. One private address only.
            raise ValueError("the API must listen on one address, not on every interface")
        if not 1 <= self.ws_port <= 65535:
            raise ValueError(f"bad WebSocket port: {self.ws_port}")
        low, high = self.rtp_ports
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"bad RTP port range: {low}-{high}")
        if not 1 <= self.session_timeout <= 3600:
            raise ValueError(f"bad session timeout: {self.session_timeout}")


def write_config(folder: Path, config: JanusConfig) -> Path:
    """Write the three configuration files into ``folder`` (created, owner-only) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    files = {
        "janus.jcfg": _core(config),
        "janus.transport.websockets.jcfg": _websockets(config),
        "janus.plugin.videoroom.jcfg": _videoroom(config),
    }
    for name, text in files.items():
        path = folder / name
        # The files hold the secret: readable by their owner only, from the moment they exist.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        path.chmod(0o600)
    return folder


def _q(text: str) -> str:
    return f'"{text}"'


def _disabled(kind: str, known: tuple[str, ...], kept: str | None) -> str:
    installed = {Path(p).name for p in glob.glob(INSTALL_GLOB.format(kind=kind))}
    return ",".join(sorted((set(known) | installed) - {kept}))


def _core(config: JanusConfig) -> str:
    low, high = config.rtp_ports
    nat = ["\tignore_mdns = true"]
    if config.nat_1_1_mapping:
        nat.append(f"\tnat_1_1_mapping = {_q(config.nat_1_1_mapping)}")
    if config.ice_enforce_list:
        nat.append(f"\tice_enforce_list = {_q(config.ice_enforce_list)}")
    nat_lines = "\n".join(nat)
    return f"""# Generated by Hearth (hearth janus-config); not the stock Debian configuration.
general: {{
\tdebug_level = 4
\tapi_secret = {_q(config.secret)}
\tinterface = {_q(config.interface)}
\tsession_timeout = {config.session_timeout}
\thide_dependencies = true
\ttoken_auth = false
\tserver_name = "hearth-janus"
}}

media: {{
\trtp_port_range = "{low}-{high}"
}}

nat: {{
{nat_lines}
}}

plugins: {{
\tdisable = {_q(_disabled("plugins", KNOWN_PLUGINS, KEPT_PLUGIN))}
}}

transports: {{
\tdisable = {_q(_disabled("transports", KNOWN_TRANSPORTS, KEPT_TRANSPORT))}
}}

loggers: {{
\tdisable = {_q(_disabled("loggers", KNOWN_LOGGERS, None))}
}}

events: {{
\tbroadcast = false
\tdisable = {_q(_disabled("events", KNOWN_EVENT_HANDLERS, None))}
}}
"""


def _websockets(config: JanusConfig) -> str:
    return f"""# Generated by Hearth: the API on one address only, the admin API off.
general: {{
\tjson = "compact"
\tws = true
\tws_port = {config.ws_port}
\tws_ip = {_q(config.ws_host)}
\twss = false
}}

admin: {{
\tadmin_ws = false
\tadmin_wss = false
}}
"""


def _videoroom(config: JanusConfig) -> str:
    return f"""# Generated by Hearth: rooms are created by Hearth only (admin_key), no static rooms.
general: {{
\tadmin_key = {_q(config.secret)}
\tstring_ids = true
}}
"""


# The `hearth janus-config` command


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``janus-config`` subcommand (``server.cli`` adds it)."""
    parser = commands.add_parser(
        "janus-config",
        help="write a Janus configuration folder for Hearth's media server",
        description="Writes janus.jcfg and the WebSocket and VideoRoom configs into DIR; start "
        f"Janus with `janus -F DIR`. The secret comes from --secret or {SECRET_ENV}.",
    )
    parser.add_argument("dir", type=Path, help="folder to write (created)")
    parser.add_argument("--ws-host", default="127.0.0.1", help="address the API listens on")
    parser.add_argument("--ws-port", type=int, default=8188, help="API port (default 8188)")
    parser.add_argument("--secret", help=f"API secret and VideoRoom admin key [{SECRET_ENV}]")
    parser.add_argument(
        "--rtp-ports",
        default="{}-{}".format(*DEFAULT_RTP_PORTS),
        help="UDP port range for media, A-B (default %(default)s)",
    )
    parser.add_argument("--interface", default=None, help="address written in SDP (default: --ws-host)")
    parser.add_argument("--public-ip", help="public address behind 1:1 NAT (nat_1_1_mapping)")
    parser.add_argument("--ice-enforce-list", help="interfaces ICE may use (e.g. eth0)")
    parser.set_defaults(run=run_janus_config, skip_settings=True)


def run_janus_config(_settings: object, args: argparse.Namespace) -> int:
    secret = args.secret or os.environ.get(SECRET_ENV, "")
    if len(secret) < SECRET_MIN_CHARS:
        print(
            f"hearth janus-config: the secret (--secret or {SECRET_ENV}) needs at least "
            f"{SECRET_MIN_CHARS} characters",
            file=sys.stderr,
        )
        return 2
    try:
        low, _, high = str(args.rtp_ports).partition("-")
        config = JanusConfig(
            secret=secret,
            ws_host=args.ws_host,
            ws_port=args.ws_port,
            rtp_ports=(int(low), int(high)),
            interface=args.interface or args.ws_host,
            nat_1_1_mapping=args.public_ip,
            ice_enforce_list=args.ice_enforce_list,
        )
    except ValueError as exc:
        print(f"hearth janus-config: {exc}", file=sys.stderr)
        return 2
    write_config(args.dir, config)
    print(f"wrote the Janus configuration to {args.dir} (start: janus -F {args.dir})")
    return 0
