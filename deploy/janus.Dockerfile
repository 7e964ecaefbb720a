# Hearth's media server: Debian's janus (VideoRoom), started with a configuration that
# `hearth janus-config` generates at every start (never the stock /etc/janus, which serves its
# API on every interface with default secrets). Built by docker-compose.yml (service janus);
# docs/deploy.md, "Media server (Janus)", explains it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Debian's janus package (1.1.2 on bookworm); its stock /etc/janus is removed so that nothing
# can start with it by mistake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends janus \
 && rm -rf /var/lib/apt/lists/* /etc/janus \
 && groupadd --system --gid 10002 janus \
 && useradd --system --uid 10002 --gid janus --home-dir /run/janus --no-create-home \
        --shell /usr/sbin/nologin janus \
 && mkdir -p /run/janus \
 && chown janus:janus /run/janus \
 && chmod 700 /run/janus

# Hearth itself, only for `hearth janus-config` (pinned like the app image).
WORKDIR /tmp/hearth-src
COPY pyproject.toml constraints.txt ./
COPY server ./server
COPY rooms ./rooms
COPY web ./web
COPY static ./static
RUN pip install -c constraints.txt . \
 && rm -rf /tmp/hearth-src
COPY deploy/janus-start.sh /usr/local/bin/janus-start
WORKDIR /run/janus

USER janus:janus
CMD ["janus-start"]
