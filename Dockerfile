# Multi-stage build: the builder installs the project into /app/.venv exactly as `make setup` does;
# the runtime image copies that environment and runs as an unprivileged user.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential make && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md Makefile ./
COPY service ./service
COPY models ./models
RUN python -m venv .venv && .venv/bin/pip install --quiet --upgrade pip setuptools wheel \
    && .venv/bin/pip install --quiet .

FROM python:3.11-slim-bookworm AS runtime
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PATH=/app/.venv/bin:$PATH \
    TRIAGE_HOST=0.0.0.0 TRIAGE_DATABASE_URL=sqlite:////data/triage.db TRIAGE_MODELS_DIR=/app/models
# Tesseract and its language data read scanned PDFs and photos (OCR).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    tesseract-ocr-spa tesseract-ocr-fra tesseract-ocr-por tesseract-ocr-msa tesseract-ocr-ind \
    tesseract-ocr-chi-sim tesseract-ocr-osd && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 triage && mkdir -p /data && chown triage /data
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/models /app/models
USER triage
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["triage", "serve"]
