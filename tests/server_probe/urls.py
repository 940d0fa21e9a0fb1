"""The site's URLs plus ``probe/threads/`` (the OpenMP and BLAS thread pools as the request thread
sees them, from ``threadpoolctl``) and ``probe/error/`` (a view that fails). Both are public for
the access gate, so an anonymous test client reaches them."""

from django.http import JsonResponse
from django.urls import path
from threadpoolctl import threadpool_info

from decision_support.accounts.access import POLICIES, PUBLIC
from decision_support.urls import handler400, urlpatterns as site_urlpatterns

PROBE_ERROR = "probe view failed on purpose"


def thread_pools(request):
    pools = [{"user_api": pool["user_api"], "internal_api": pool["internal_api"],
              "num_threads": pool["num_threads"]} for pool in threadpool_info()]
    return JsonResponse({"pools": pools})


def error(request):
    raise RuntimeError(PROBE_ERROR)


POLICIES.update({"probe_threads": PUBLIC, "probe_error": PUBLIC})
urlpatterns = [
    *site_urlpatterns,
    path("probe/threads/", thread_pools, name="probe_threads"),
    path("probe/error/", error, name="probe_error"),
]
__all__ = ["handler400", "urlpatterns"]
