"""The gunicorn config (decision_support/gunicorn.conf.py) takes its settings from the environment,
as the README's "Deploying for a class" documents. Reads the file; starts no server."""

import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "decision_support" / "gunicorn.conf.py"
ENV = ("WEB_CONCURRENCY", "GUNICORN_BIND", "PORT", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS")


def load(monkeypatch, **env) -> dict:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_defaults(monkeypatch):
    config = load(monkeypatch)
    assert config["workers"] == 2
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["preload_app"] is True
    assert config["wsgi_app"] == "decision_support.wsgi:application"
    assert config["worker_class"] == "sync"
    assert "%(D)s" in config["access_log_format"]  # the request time


def test_workers_and_bind_from_the_environment(monkeypatch):
    config = load(monkeypatch, WEB_CONCURRENCY="5", GUNICORN_BIND="0.0.0.0:9000")
    assert config["workers"] == 5
    assert config["bind"] == ["0.0.0.0:9000"]
    assert config["preload_app"] is True


def test_port_alone_binds_every_address(monkeypatch):
    assert load(monkeypatch, PORT="8123")["bind"] == ["0.0.0.0:8123"]


def test_bad_worker_count_is_refused(monkeypatch):
    with pytest.raises(ValueError):
        load(monkeypatch, WEB_CONCURRENCY="many")


def test_gunicorn_reads_the_file(monkeypatch):
    """gunicorn itself accepts every setting in the file."""
    from gunicorn.config import Config

    cfg = Config()
    for name, value in load(monkeypatch, WEB_CONCURRENCY="3").items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.workers == 3
    assert cfg.preload_app is True
    assert cfg.bind == ["127.0.0.1:8000"]


class FakeServer:
    """The part of gunicorn's arbiter that the hooks use: its log."""

    def __init__(self):
        self.messages = []
        self.log = self

    def info(self, message, *args):
        self.messages.append(message % args)

    def exception(self, message, *args):
        self.messages.append("exception: " + message % args)


@pytest.mark.parametrize("fails", [False, True])
def test_the_master_warms_the_model_cache_and_closes_connections_before_forking(monkeypatch, fails):
    from decision_support.registry import loading

    def warm():
        if fails:
            raise RuntimeError("database unavailable")
        return 7

    closed, frozen = [], []
    monkeypatch.setattr(loading, "warm_model_cache", warm)
    monkeypatch.setattr("django.db.connections.close_all", lambda: closed.append(True))
    monkeypatch.setattr("gc.freeze", lambda: frozen.append(True))
    server = FakeServer()
    load(monkeypatch)["when_ready"](server)
    assert server.messages == (["exception: model cache: warming failed"] if fails
                               else ["model cache: 7 models loaded"])
    assert closed == [True] and frozen == [True]  # even when warming failed
