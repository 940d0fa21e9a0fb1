"""gunicorn settings for production mode (``scripts/serve``; README "Deploying for a class").

Everything comes from the environment:

- ``WEB_CONCURRENCY``: worker processes (default 2). Each is one synchronous worker; a page
  predicts for one patient on one thread (``decision_support/__init__.py`` caps the thread
  pools), so concurrency comes from processes. About one per core.
- ``GUNICORN_BIND``: the address (default ``127.0.0.1:8000``; ``0.0.0.0:8000`` behind a load
  balancer). ``PORT`` alone gives ``0.0.0.0:$PORT``.
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 60).
- ``GUNICORN_MAX_REQUESTS``: restart a worker after this many requests, with jitter (default 0:
  never).

``preload_app``: the master imports the WSGI application once, before forking. Importing it loads
Django, scikit-learn, shap and pandas (about 3 s here; shap alone about 3.5 s cold), so the workers
start ready and share those pages of memory copy-on-write, and nothing heavy is ever imported per
request. Then ``when_ready`` loads the fitted models of every cohort's latest training run
(``registry.loading.warm_model_cache``) in the master, closes its database connections (a forked
worker must not share the master's socket) and freezes the garbage collector's view of what is
loaded, so every worker starts with those models in memory it shares copy-on-write and no page pays
a model's first load. Models of runs trained later load on first use and stay cached per worker.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "decision_support.wsgi:application"
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "sync"
bind = [os.environ["GUNICORN_BIND"]] if os.environ.get("GUNICORN_BIND") else (
    [f"0.0.0.0:{os.environ['PORT']}"] if os.environ.get("PORT") else ["127.0.0.1:8000"])
preload_app = True
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Which proxies may set X-Forwarded-Proto (the load balancer); Django trusts it only with
# DJANGO_BEHIND_TLS_PROXY=1.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Request time in microseconds (%(D)s) and in seconds (%(L)s) after the status and size.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus %(L)ss pid=%(p)s "%(a)s"'


def when_ready(server):
    """After preloading the app, before forking the workers: warm the model cache."""
    import gc

    from django.db import connections

    from decision_support.registry.loading import warm_model_cache

    try:
        server.log.info("model cache: %d models loaded", warm_model_cache())
    except Exception:  # the workers still load each model on first use
        server.log.exception("model cache: warming failed")
    finally:
        connections.close_all()
    # Objects made so far live as long as the process: keep the collector from touching (and so
    # copying) their pages in every worker.
    gc.freeze()
