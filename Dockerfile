# The CRM as one image: gunicorn serving crm.wsgi, static files by WhiteNoise.
# Configuration comes from the environment at run time (see README "Deployment").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

WORKDIR /app

# psycopg[binary] ships its own libpq, so no compiler or system packages are needed.
COPY . .
RUN pip install .

# Hashed, compressed static files, made once at build time. The key only satisfies the
# settings' start-up check; collectstatic signs nothing with it.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput

# Run as an unprivileged user that owns nothing in /app: the code cannot be rewritten
# by the process serving it.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin crm
USER crm

EXPOSE 8000

# /healthz needs no login and is exempt from the HTTPS redirect. The Host header must be
# one Django accepts, so use the first ALLOWED_HOSTS entry (".example.com" -> "example.com").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); u.urlopen(u.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': h if h not in ('', '*') else 'localhost'}), timeout=4)"

CMD ["gunicorn", "crm.wsgi", "-c", "gunicorn.conf.py"]
