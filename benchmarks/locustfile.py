"""A class of students using the app, for locust (run by bench_class_load.py, which sets it up).

Each simulated student signs in through the login form (with its CSRF token) as their own account,
then, with a think time between clicks, lists patients, opens patients, opens model pages and,
when the app has it, the what-if explorer. Read from the environment (bench_class_load.py writes
them): CLASS_LOAD_PLAN, a JSON file with the accounts, pseudonyms, run, arms and list pages;
CLASS_LOAD_RESULTS, where every request's page type, time in ms and error are written at the end;
CLASS_LOAD_WAIT, the think time range in seconds ("1,5").

The app runs in production mode behind a pretend TLS proxy: every request carries
X-Forwarded-Proto: https (gunicorn is told to trust it from 127.0.0.1), so Django sees HTTPS,
sets Secure cookies and checks the Origin on POSTs. requests does not send Secure cookies over
plain http, so after each response the student's cookies are marked not secure.
"""

import itertools
import json
import os
import random
import re
import threading
import time

from locust import HttpUser, events, task

PLAN = json.loads(open(os.environ["CLASS_LOAD_PLAN"]).read())
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("CLASS_LOAD_WAIT", "1,5").split(","))
_ACCOUNTS = itertools.cycle(PLAN["accounts"])
_ACCOUNTS_LOCK = threading.Lock()
_RECORDS: list[tuple[str, float, str | None, float]] = []
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, **kwargs):
    _RECORDS.append((name, response_time, None if exception is None else repr(exception)[:200],
                     time.time() - response_time / 1000))  # when the request started


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["CLASS_LOAD_RESULTS"], "w") as f:
        json.dump(_RECORDS, f)


class Student(HttpUser):
    def wait_time(self):
        return random.uniform(WAIT_MIN, WAIT_MAX)

    def on_start(self):
        self.client.headers.update({"X-Forwarded-Proto": "https"})
        with _ACCOUNTS_LOCK:
            username, password = next(_ACCOUNTS)
        page = self.client.get("/accounts/login/", name="sign in (form)")
        self._keep_cookies()
        token = _CSRF.search(page.text)
        with self.client.post(
                "/accounts/login/", name="sign in (post)", allow_redirects=False,
                data={"username": username, "password": password,
                      "csrfmiddlewaretoken": token.group(1) if token else ""},
                headers={"Origin": self.host.replace("http://", "https://"),
                         "Referer": self.host.replace("http://", "https://") + "/accounts/login/"},
                catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}, not a redirect")
        self._keep_cookies()

    def _keep_cookies(self):
        for cookie in self.client.cookies:
            cookie.secure = False

    def _get(self, path, name):
        with self.client.get(path, name=name, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")
        self._keep_cookies()

    @task(2)
    def patient_list(self):
        page = random.choice(PLAN["list_pages"])
        self._get(f"/cohorts/{PLAN['cohort']}/patients/?page={page}", "patient list")

    @task(4)
    def patient(self):
        self._get(f"/patients/{random.choice(PLAN['pseudonyms'])}/", "patient page")

    @task(2)
    def model(self):
        self._get(f"/runs/{PLAN['run']}/arms/{random.choice(PLAN['arms'])}/", "model page")

    @task(2)
    def what_if(self):
        if PLAN["what_if"]:
            crp = random.choice((1, 3, 10, 20))
            self._get(f"/patients/{random.choice(PLAN['pseudonyms'])}/what-if/?crp_mg_l={crp}",
                      "what-if page")
        else:
            self.patient()
