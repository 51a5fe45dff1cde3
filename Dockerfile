FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY portal ./portal
COPY integrations ./integrations
RUN pip install .

COPY . .
# collectstatic needs settings; these throwaway values exist only in this build step.
RUN DEBUG=false SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    PORTAL_VAR_DIR=/tmp/var STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
    && useradd --system --home /app portal && mkdir -p /app/var && chown portal /app/var

USER portal
ENV STATIC_ROOT=/app/staticfiles PORTAL_VAR_DIR=/app/var
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
