# Relaydesk on the embedded SQLite store with the example configuration.
#   docker build -t relaydesk . && docker run -p 8080:8080 -v relaydesk-data:/app/data relaydesk
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY channels ./channels
COPY templates ./templates
COPY config ./config
RUN pip install --no-cache-dir -e . && useradd --create-home relaydesk && mkdir -p /app/data \
    && chown relaydesk /app/data
USER relaydesk
VOLUME ["/app/data"]
EXPOSE 8080
ENV RELAYDESK_WEB__HOST=0.0.0.0
CMD ["sh", "-c", "relaydesk migrate && relaydesk demo && exec relaydesk serve"]
