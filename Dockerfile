# syntax=docker/dockerfile:1
#
# One image for every process of the platform (customer API and relay, analytics API and
# projector, the `crm` CLI); docker-compose.yml picks the process of each service with
# `command`. No secret is baked in: CRM_JWT_SECRET and the store password come from the
# environment at run time. See deploy/docker/README.md.

# ---- builder: resolve the locked dependencies and install the project into a venv ----
FROM python:3.11-slim AS builder

ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# The venv lives at the same path in both stages: its scripts' shebangs point into it.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-project

# Then the project itself, built by hatchling as a wheel (shared/events/schemas/*.json included).
COPY README.md ./
COPY services ./services
COPY shared ./shared
COPY crm ./crm
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---- runtime: the venv and the source, run by an unprivileged user ----
FROM python:3.11-slim AS runtime

# psycopg is installed without its binary extra, so it loads the system libpq at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 crm \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/crm --shell /usr/sbin/nologin crm

ENV VIRTUAL_ENV=/app/.venv \
    PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRM_CUSTOMER_HOST=0.0.0.0 \
    CRM_ANALYTICS_HOST=0.0.0.0

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/pyproject.toml /app/README.md ./
COPY --from=builder /app/services ./services
COPY --from=builder /app/shared ./shared
COPY --from=builder /app/crm ./crm

# Code stays root-owned (read-only to the service user); only the default SQLite
# directory (.local/data, used when CRM_CUSTOMER_STORE__BACKEND is not postgres) is writable.
RUN python -m compileall -q services shared crm \
    && install -d -o 10001 -g 10001 /app/.local /app/.local/data

USER 10001:10001

EXPOSE 8001 8010

# The customer API by default; every compose service overrides this with its own process.
CMD ["python", "-m", "services.customer.main"]
