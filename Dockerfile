# One image for the API, the worker, the migrations and the simulator; the command picks the
# process (see docker-compose.yml). The build stage installs the project into a virtual
# environment; the final stage holds that environment only and runs as an unprivileged user.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY activities ./activities
COPY api ./api
COPY core ./core
COPY devstack ./devstack
COPY domain ./domain
COPY gateways ./gateways
COPY simulator ./simulator
COPY store ./store
COPY webhooks ./webhooks
COPY workflows ./workflows
COPY worker.py ./
RUN pip install -c constraints.txt .

FROM python:3.11-slim
# The worker's metrics listen beyond the container, to be scraped (docs/observability.md).
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH=/opt/venv/bin:$PATH \
    WORKER_METRICS_HOST=0.0.0.0
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir -p /app/.data \
    && chown app:app /app/.data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER app
EXPOSE 8000
CMD ["uvicorn", "api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--timeout-keep-alive", "75", "--timeout-graceful-shutdown", "15"]
