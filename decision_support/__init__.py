"""The Django project. Importing it caps the OpenMP and BLAS thread pools at one thread.

A page predicts for one patient: extra threads only spin-wait, and on a busy machine they made a
page take seconds; concurrency comes from the server's threads and worker processes instead.
OpenMP keeps its thread count per thread (``threadpoolctl.threadpool_limits`` in one thread leaves
runserver's request threads at one per core), and it reads ``OMP_NUM_THREADS`` once, when
scikit-learn loads it. So the cap goes into the environment here, before the settings or the WSGI
application import numpy or scikit-learn: every server (``manage.py``, ``decision_support.wsgi``
under gunicorn), every thread and every child process then starts with it. A value already in the
environment is kept.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
