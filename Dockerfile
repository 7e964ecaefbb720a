# Hearth app node. Built by docker-compose.yml (hearth1, hearth2); docs/deploy.md explains it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# An unprivileged user owns the data directory; the server runs as that user.
RUN groupadd --system --gid 10001 hearth \
 && useradd --system --uid 10001 --gid hearth --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin hearth \
 && mkdir -p /data \
 && chown hearth:hearth /data \
 && chmod 700 /data

# Only what the package is built from (no tests, docs or dev extras), installed from the
# ordinary package index at the versions CI tested (constraints.txt); the build tree is removed
# afterwards. Every dependency ships wheels for this Python, so no compiler is needed.
WORKDIR /tmp/hearth-src
COPY pyproject.toml constraints.txt ./
COPY server ./server
COPY rooms ./rooms
COPY web ./web
COPY static ./static
RUN pip install -c constraints.txt . \
 && rm -rf /tmp/hearth-src
WORKDIR /data

# Settings (every HEARTH_* variable is in README.md); docker-compose.yml adds the secrets, the
# Redis store and TURN. The data directory keeps the SQLite store and generated secret when
# no other store and secret are given.
ENV HEARTH_DATA_DIR=/data \
    HEARTH_HOST=0.0.0.0 \
    HEARTH_PORT=8080
VOLUME ["/data"]

USER hearth:hearth
EXPOSE 8080

# The slim image has no curl: ask /readyz with Python (a non-200 answer raises, exit 1).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3)"]

CMD ["hearth", "serve", "--host", "0.0.0.0", "--port", "8080"]
