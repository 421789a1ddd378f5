# One image for the API, the worker and the simulator; the command picks the process.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY api ./api
COPY activities ./activities
COPY core ./core
COPY devstack ./devstack
COPY domain ./domain
COPY gateways ./gateways
COPY simulator ./simulator
COPY store ./store
COPY workflows ./workflows
COPY worker.py ./
RUN pip install --no-cache-dir .
USER nobody
CMD ["uvicorn", "api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
