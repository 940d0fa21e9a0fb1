"""Named teaching scenarios: each is a declarative change of the default parameters.

Adding a scenario is one ``_register(Scenario(...))`` call; ``overrides`` names fields of
``CohortParameters`` and their new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .parameters import DEFAULT_PARAMETERS, CohortParameters


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    teaching_note: str
    overrides: dict = field(default_factory=dict)

    @property
    def parameters(self) -> CohortParameters:
        return DEFAULT_PARAMETERS.replace(**self.overrides)


SCENARIOS: dict[str, Scenario] = {}


def _register(scenario: Scenario) -> None:
    scenario.parameters  # validates the overrides at import time
    SCENARIOS[scenario.name] = scenario


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {known}") from None


_register(
    Scenario(
        name="default",
        title="Default: a randomised cohort mirroring published findings",
        teaching_note=(
            "Rates, distributions and effects follow the published studies cited in the data "
            "dictionary; where a size is a modelling choice, the dictionary says 'assumed'. "
            "Treatment is randomised, biomarkers hippocampal volume and serum BDNF are decoys "
            "(no true effect on response), and the polygenic score loses accuracy outside "
            "European ancestry as Martin 2019 reports."
        ),
    )
)
