# Switchboard: the server and its web app in one slim image, run as a non-root user.
#   docker build -t switchboard .
#   docker run -p 8080:8080 -e SWITCHBOARD_SECRET_KEY=... -v sb-data:/data switchboard
# Several workers and hosts: compose.yaml and README "Running several workers and hosts".

# --- the web app, built with node in a stage of its own (only web/dist is kept) ---
FROM node:22-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# --- the Python environment, made by uv from the lock file ---
FROM python:3.12-slim AS app
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# the dependencies first, so a change to the code alone reuses this layer
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src/ src/
RUN uv sync --frozen --no-dev --no-editable
COPY --from=web /build/web/dist /app/web/dist

RUN useradd --system --uid 10001 --user-group --home-dir /data switchboard \
    && mkdir -p /data/files && chown -R switchboard:switchboard /data
USER switchboard
ENV PATH=/app/.venv/bin:$PATH \
    SWITCHBOARD_DATA_DIR=/data \
    SWITCHBOARD_WEB='{"dist_dir": "/app/web/dist"}'
VOLUME ["/data"]
EXPOSE 8080
# /healthz: the process answers (a load balancer's readiness probe is /readyz)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8080"]
