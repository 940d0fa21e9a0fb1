"""An id in a URL names an object only as ASCII digits: other Unicode digits ("¹", "٣") are
digits to str.isdigit but not to int(), and must answer "not found", never a server error."""

import pytest

from decision_support.courses.scope import COURSE_OF

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kwarg", sorted(name for name in COURSE_OF if name.endswith("_id")))
@pytest.mark.parametrize("value", ["¹", "٣", "1²", "x", "9" * 19])
def test_an_id_that_is_not_ascii_digits_names_no_course(kwarg, value):
    assert COURSE_OF[kwarg](value) is None


def test_the_api_answers_a_superscript_run_id_without_a_server_error(client, make_user):
    client.force_login(make_user("educator"))
    for path in ("/api/runs/%C2%B9/models/", "/api/runs/%C2%B9/travel/"):
        assert client.get(path).status_code in (401, 404, 422), path
