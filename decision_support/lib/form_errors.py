"""A form's errors as pages list them: each with the field it names."""


def field_errors(form) -> list[tuple[str, str, str]]:
    """(field name, label, message) for every error; errors of the whole form are "Form"."""
    return [(name, form.fields[name].label or name if name in form.fields else "Form", message)
            for name, messages in form.errors.items() for message in messages]
