#!/bin/sh
# Start Janus with a configuration generated now (docker-compose.yml, service janus). Every
# value comes from the environment; the secret (HEARTH_JANUS_SECRET) is read by
# `hearth janus-config` from there, never passed on a command line.
#   JANUS_API_IP      the address the API listens on: the container's address on the internal
#                     network (docker-compose.yml fixes it), never published
#   JANUS_MEDIA_NET   the prefix of the media network's addresses (ICE gathers only there)
#   JANUS_RTP_PORTS   the UDP range for media, published 1:1 by docker-compose.yml
#   JANUS_PUBLIC_IP   the host's public address, written in Janus's ICE candidates
set -eu
hearth janus-config /run/janus/config \
    --ws-host "$JANUS_API_IP" \
    --ws-port 8188 \
    --rtp-ports "$JANUS_RTP_PORTS" \
    --public-ip "$JANUS_PUBLIC_IP" \
    --ice-enforce-list "$JANUS_MEDIA_NET"
exec janus -F /run/janus/config -o
