"""Every page's view of the pause switch: the banner while predictions are paused, and the
link to the pause page and the resume button, for the roles the access gate lets use them."""

from decision_support.accounts.access import POLICIES, can

from .selectors import prediction_pause


def oversight(request) -> dict:
    roles = getattr(request, "roles", None) or frozenset()
    can_pause = bool(roles) and can(roles, POLICIES["predictions_pause"].roles)
    return {"prediction_pause": prediction_pause(), "can_pause_predictions": can_pause}
