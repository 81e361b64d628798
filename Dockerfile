# Soft Landing: the Telegram bot in a small image that runs as a non-root user.
# Build:  docker build -t softlanding .
# Run:    docker run --env-file .env -v softlanding-data:/data softlanding
# The SQLite database lives on the /data volume; the knowledge is baked into the image
# (mount your own folder over /app/knowledge and send /reload to change it without a rebuild).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /venv && /venv/bin/pip install -q .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KNOWLEDGE_DIR=/app/knowledge \
    DATABASE_PATH=/data/softlanding.db \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin softlanding \
    && mkdir -p /data /app \
    && chown softlanding:softlanding /data
COPY --from=build /venv /venv
COPY knowledge /app/knowledge
WORKDIR /app
USER softlanding
VOLUME ["/data"]
# Webhook mode listens here (WEBHOOK_LISTEN=0.0.0.0 inside a container); polling needs no port.
EXPOSE 8443
STOPSIGNAL SIGTERM
ENTRYPOINT ["softlanding"]
CMD ["run"]
