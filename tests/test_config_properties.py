"""Property tests (Hypothesis, fixed seeds): any config a user can write ends in a valid config or ConfigError."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augsbert_core.config import (
    AugmentSettings,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    GateConfig,
    ModelConfig,
    TeacherSearchConfig,
    load_config_file,
)

FAST = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SECTIONS = {
    "data": DataConfig,
    "student": ModelConfig,
    "teacher": ModelConfig,
    "augment": AugmentSettings,
    "gate": GateConfig,
    "teacher_search": TeacherSearchConfig,
}
TOP_KEYS = [f.name for f in dataclasses.fields(ExperimentConfig)]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["2e-5", "true", "off", "auto", "bm25", "cuda:0", "1e400", "-0", "nan"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def configs(draw):
    """Mostly-plausible configs: real keys (plus a stray one now and then) with values of any type."""
    raw = {"data": {"train": "a.csv", "test": "b.csv"}}
    for key in draw(st.lists(st.sampled_from(TOP_KEYS + ["samplr", "x"]), max_size=6)):
        if key in SECTIONS:
            fields = [f.name for f in dataclasses.fields(SECTIONS[key])] + ["typo"]
            section = draw(st.dictionaries(st.sampled_from(fields), values, max_size=4))
            raw[key] = draw(st.one_of(st.just(section), values))
        else:
            raw[key] = draw(values)
    return raw


@FAST
@given(configs())
def test_any_config_is_valid_or_a_config_error(raw):
    try:
        cfg = ExperimentConfig.from_dict(raw)
    except ConfigError as exc:
        assert str(exc).strip()
        return
    again = ExperimentConfig.from_dict(cfg.to_dict())  # a valid config round-trips
    assert again.to_dict() == cfg.to_dict()
    assert isinstance(cfg.student.trust_remote_code, bool) and isinstance(cfg.top_k, int)


@FAST
@given(st.text(max_size=300))
def test_any_yaml_text_is_a_mapping_or_a_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        raw = load_config_file(path)
    except ConfigError:
        return
    assert isinstance(raw, dict)


@FAST
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_override_is_applied_or_a_config_error(tmp_path_factory, key, value):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text("data: {train: a.csv, test: b.csv}\n")
    try:
        ExperimentConfig.from_file(path, overrides=[f"{key}={value}"])
    except ConfigError:
        pass
