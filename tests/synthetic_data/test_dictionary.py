from synthetic_data import DATA_CLASSES, DATA_DICTIONARY, make_cohort


def test_every_generated_column_is_in_the_dictionary():
    cohort = make_cohort(20, random_state=1)
    assert set(cohort.patients.columns) | set(cohort.truth.columns) <= set(DATA_DICTIONARY)


def test_every_dictionary_entry_is_produced_by_the_generator():
    cohort = make_cohort(20, random_state=1)
    assert set(DATA_DICTIONARY) == set(cohort.patients.columns) | set(cohort.truth.columns)


def test_each_observed_variable_has_label_class_finding_and_evidence():
    for variable in DATA_DICTIONARY.values():
        assert variable.label and variable.finding, variable.name
        assert variable.data_class in DATA_CLASSES
        assert variable.evidence in {"published", "assumed", "derived", "not applicable"}
        if variable.evidence == "published":
            assert variable.citation, f"{variable.name} claims published evidence without a source"
        if variable.kind in {"integer", "float"} and variable.observed:
            assert variable.minimum < variable.maximum, variable.name
        if variable.kind == "category":
            assert variable.categories, variable.name


def test_assumptions_are_labelled_as_such():
    assumed = {v.name for v in DATA_DICTIONARY.values() if v.evidence == "assumed"}
    # DOMAIN.md marks these as modelling choices, not published numbers.
    assert {"ancestry", "childhood_maltreatment", "fkbp5_methylation", "cyp2d6_phenotype"} <= assumed


def test_decoys_are_named_as_decoys():
    for name in ("hippocampal_volume_mm3", "bdnf_serum_ng_ml"):
        assert "DECOY" in DATA_DICTIONARY[name].finding


def test_units_appear_in_the_column_names_where_there_is_one():
    for name, unit_suffix in {"crp_mg_l": "mg/L", "il6_pg_ml": "pg/mL",
                              "hippocampal_volume_mm3": "mm3", "bdnf_serum_ng_ml": "ng/mL",
                              "episode_duration_months": "months"}.items():
        assert DATA_DICTIONARY[name].unit == unit_suffix
