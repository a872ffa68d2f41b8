# syntax=docker/dockerfile:1
# Swatch's image: one image for every process type of the Procfile (web, worker, release).
#   docker build -t swatch .
#   docker run -e DATABASE_URL=… -e REDIS_URL=… -e SWATCH_SECRET_KEY=… swatch web
# docs/DEPLOYMENT.md says what each process needs and how each part scales.

# --- build: wheels compiled and installed into a virtualenv, nothing of it in the final image
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install --upgrade pip && pip install -r /tmp/requirements.txt

# --- static: the static build (collectstatic with whitenoise's compressed manifest) once, at
# build time, so every web node serves the same hashed files
FROM build AS static
WORKDIR /app
COPY . /app
RUN SWATCH_ENV=production SWATCH_SECRET_KEY=static-build-only \
    DATABASE_URL=postgres://build@localhost:5432/build SWATCH_VAR_DIR=/tmp/var \
    python manage.py collectstatic --noinput -v 0 && mv /tmp/var/static /app/staticfiles

# --- run: the virtualenv, the code, the offline model files, a user that is not root
FROM python:3.11-slim-bookworm AS run
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 swatch \
    && useradd --system --uid 10001 --gid swatch --home-dir /app --shell /usr/sbin/nologin swatch
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SWATCH_ENV=production \
    SWATCH_HOST=0.0.0.0 \
    SWATCH_PORT=8000 \
    SWATCH_VAR_DIR=/var/lib/swatch \
    SWATCH_OFFLINE_WEIGHTS_DIR=/app/analysis/weights
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code and, with it, the offline model files in analysis/weights/ (EfficientNet-Lite0,
# MiniLM, the type classifier): inside the image, as nothing is downloaded at run time.
COPY --chown=root:root . /app
COPY --from=static --chown=root:root /app/staticfiles /var/lib/swatch/static
RUN mkdir -p /var/lib/swatch/media && chown -R swatch:swatch /var/lib/swatch \
    && chmod +x /app/docker/entrypoint.sh
USER swatch
VOLUME ["/var/lib/swatch/media"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SWATCH_PORT', '8000'), timeout=4)" || exit 1
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
