"""Numeric query parameters: each checked once, finite and in range, or the request is refused.

A number in a page's query string (a threshold, a page number, an id, a value to try) is read
through a form field, never parsed by hand. A bad one (not a number, NaN, an infinity, ``1e309``,
out of range, empty where required) raises ``BadQueryParameter``, which Django turns into the 400
page (``decision_support.views.bad_request``): the parameter named, the value never echoed, and
none of the page's data shown (the access gate audits only successful reads).

``query_settings`` reads a page's settings (a form's fields) from the query that way: a bad number
is refused, any other invalid field falls back to its default with a message naming it.
"""

from contextlib import contextmanager

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import InvalidPage

NAMED = "{label} ({name}): {message}"
OUT_OF_RANGE = "Enter a number from %(min_value)s to %(max_value)s."
PAGE_LABEL = "Page"


class BadQueryParameter(BadRequest):
    """Query parameters that cannot be used: ``errors`` holds (name, message naming it)."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(" ".join(message for _, message in errors))
        self.errors = errors


class BoundedDecimalField(forms.DecimalField):
    """A ``DecimalField`` that refuses a value out of range before its other checks run: Django's
    step check fails with ``ValueError`` (a 500) on a finite but huge decimal such as ``1e309``."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def validate(self, value):
        super().validate(value)  # required, and finite (NaN and infinities)
        if value not in self.empty_values and not self.min_value <= value <= self.max_value:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range",
                                  params={"min_value": self.min_value, "max_value": self.max_value})


def refuse_bad_numbers(form: forms.Form) -> None:
    """Raise ``BadQueryParameter`` for the numeric fields of a bound form that did not validate
    (``IntegerField``, ``FloatField`` and ``DecimalField``: the last two subclass the first)."""
    invalid = form.errors  # validates the form
    errors = [(name, NAMED.format(label=field.label, name=name, message=" ".join(invalid[name])))
              for name, field in form.fields.items()
              if isinstance(field, forms.IntegerField) and name in invalid]
    if errors:
        raise BadQueryParameter(errors)


@contextmanager
def page_parameter(name: str = "page"):
    """Around a paginator's ``page()``: a page number that is not a whole number from 1 to the
    last page (Django's paginator checks it) is a bad ``name`` parameter, not a missing page."""
    try:
        yield
    except InvalidPage as error:
        raise BadQueryParameter(
            [(name, NAMED.format(label=PAGE_LABEL, name=name, message=error))]) from None


def query_settings(form_class, query, **form_kwargs):
    """Validate the GET query: a bad number is refused (400, ``refuse_bad_numbers``); every other
    valid field is used, every invalid one falls back to its default with an error naming the
    field. ``form_kwargs`` go to the form (an arm form's ``arms``). Returns the form (showing what
    is in use), the settings and the error messages."""
    defaults = {name: field.initial for name, field in form_class(**form_kwargs).fields.items()}
    if not any(name in query for name in defaults):
        return form_class(initial=defaults, **form_kwargs), defaults, []
    data = {name: query.get(name, str(default)) for name, default in defaults.items()}
    form = form_class(data, **form_kwargs)
    refuse_bad_numbers(form)
    chosen = {name: form.cleaned_data.get(name, default) for name, default in defaults.items()}
    errors = [f"{form.fields[name].label}: {' '.join(messages)} Showing the default, "
              f"{_shown(form.fields[name], defaults[name])}, instead."
              for name, messages in form.errors.items()]
    form.data = {**data, **{name: str(defaults[name]) for name in form.errors}}
    return form, chosen, errors


def _shown(field, value) -> str:
    return (dict(field.choices).get(value, value) if isinstance(field, forms.ChoiceField)
            else str(value))
