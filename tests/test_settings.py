"""Settings come from the environment; production mode is strict. Each case runs in a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_PRODUCTION": "1",
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "PSEUDONYM_KEY": "a-different-long-random-key-for-pseudonyms-0123456789",
    "AUDIT_KEY": "a-third-long-random-key-for-the-audit-chain-0123456789",
    "DJANGO_ALLOWED_HOSTS": "teaching.example.org",
}


def _run(args, env=None, tmp_path=None):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "PG", "DATABASE_URL", "AUDIT_"))}
    clean["DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def _setting(expression, tmp_path, env=None):
    code = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='decision_support.settings'; django.setup(); from django.conf import settings; print({expression})"
    result = _run(["-c", code], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debug_is_off_unless_asked_for(tmp_path):
    assert _setting("settings.DEBUG", tmp_path) == "False"
    assert _setting("settings.DEBUG", tmp_path, {"DJANGO_DEBUG": "1"}) == "True"


def test_the_default_database_is_a_sqlite_file_and_pg_variables_switch_to_postgresql(tmp_path):
    assert _setting("settings.DATABASES['default']['ENGINE']", tmp_path).endswith("sqlite3")
    engine = _setting("settings.DATABASES['default']['ENGINE']", tmp_path, {"PGHOST": "127.0.0.1"})
    assert engine.endswith("postgresql")
    url = "postgres://u:p@db.internal:5433/teaching"
    assert _setting("settings.DATABASES['default']['NAME']", tmp_path, {"DATABASE_URL": url}) == "teaching"


def test_a_malformed_boolean_is_refused_not_guessed(tmp_path):
    result = _run(["manage.py", "check"], {"DJANGO_DEBUG": "maybe"}, tmp_path)
    assert result.returncode != 0 and "DJANGO_DEBUG must be one of" in result.stderr


def test_production_mode_passes_the_deployment_checklist(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "PSEUDONYM_KEY", "AUDIT_KEY",
                                     "DJANGO_ALLOWED_HOSTS"])
def test_production_mode_refuses_to_start_without_its_secrets(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _run(["manage.py", "check"], env, tmp_path)
    assert result.returncode != 0 and f"{missing} must be set" in result.stderr


@pytest.mark.parametrize("same_as", ["DJANGO_SECRET_KEY", "PSEUDONYM_KEY"])
def test_the_audit_key_must_differ_from_the_other_keys(tmp_path, same_as):
    env = {**PRODUCTION_ENV, "AUDIT_KEY": PRODUCTION_ENV[same_as]}
    result = _run(["manage.py", "check"], env, tmp_path)
    assert result.returncode != 0
    assert "AUDIT_KEY must differ from DJANGO_SECRET_KEY and PSEUDONYM_KEY" in result.stderr


def test_the_audit_checkpoint_file_defaults_to_data_dir_and_follows_its_variable(tmp_path):
    assert _setting("settings.AUDIT_CHECKPOINT_FILE", tmp_path) == str(tmp_path / "audit-checkpoints.jsonl")
    elsewhere = tmp_path / "log" / "checkpoints.jsonl"
    assert _setting("settings.AUDIT_CHECKPOINT_FILE", tmp_path,
                    {"AUDIT_CHECKPOINT_FILE": str(elsewhere)}) == str(elsewhere)


def test_production_mode_refuses_known_demo_passwords(tmp_path):
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='decision_support.settings'; "
            "django.setup(); from django.contrib.auth.password_validation import validate_password\n"
            "for pw in ['demo', 'educator', 'Data_Steward', 'xq7-Rv!m2-Lp9z']:\n"
            "    try: validate_password(pw); print(pw, 'ok')\n"
            "    except Exception as e: print(pw, 'refused', 'known demo password' in str(e))")
    lines = _run(["-c", code], PRODUCTION_ENV, tmp_path).stdout.splitlines()
    assert lines == ["demo refused True", "educator refused True", "Data_Steward refused True",
                     "xq7-Rv!m2-Lp9z ok"]
