# Graphport's production image: `graphport serve` on port 8000 as a non-root user.
#
#   docker build -t graphport .                                  # the example graphs
#   docker build -t my-agents --build-arg APP_DIR=path/to/app .  # your langgraph.json
#
# The same image runs the other commands: `docker run graphport worker`,
# `docker run graphport db upgrade`. Settings come from the environment (see the README's
# "Operating Graphport"); the database and Redis are given by DATABASE_URI and REDIS_URI.

ARG PYTHON_VERSION=3.12

# --- build: install graphport[postgres] into a virtual environment -------------------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/graphport
WORKDIR /build
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN /opt/graphport/bin/pip install ".[postgres]"

# --- runtime: the virtual environment and the graphs, nothing else --------------------------
FROM python:${PYTHON_VERSION}-slim
ARG APP_DIR=examples
RUN useradd --create-home --uid 10001 graphport
COPY --from=build /opt/graphport /opt/graphport
COPY --chown=graphport:graphport ${APP_DIR} /app
WORKDIR /app
ENV PATH=/opt/graphport/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GRAPHPORT_CONFIG=/app/langgraph.json \
    GRAPHPORT_LOG_FORMAT=json \
    PORT=8000
USER graphport
EXPOSE 8000
# Liveness only: a database outage should not restart every replica (`/ok?check_db=1`
# tells a load balancer instead).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ok' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["graphport"]
CMD ["serve"]
