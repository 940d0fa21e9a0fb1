"""The typed confirmation of a course reset or archive: the educator types the course's name."""

from django import forms

CONFIRM_MISMATCH = ("Type the course's name exactly as shown ({name!r}) to confirm; nothing was "
                    "changed.")


class CourseConfirmForm(forms.Form):
    confirm_name = forms.CharField(label="Type the course's name to confirm", max_length=200)

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"]
        if typed != self.course.name:
            raise forms.ValidationError(CONFIRM_MISMATCH.format(name=self.course.name))
        return typed
