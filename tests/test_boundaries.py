"""Typed, bounded boundaries (issue 11): one config schema, `augsbert check`, safe YAML, a run store that
survives corrupt and locked files. Every bad input ends in one line naming the key, file or run, exit 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from augsbert_core.config import ConfigError, ExperimentConfig, json_schema, safe_yaml
from augsbert_core.runs import RunStore

from .conftest import DEMO
from .test_cli import cli

pytestmark = pytest.mark.hostile

BASE = {"data": {"train": "a.csv", "test": "b.csv"}}


def _config(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the schema --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override,key,shown",
    [
        ({"student": {"epochs": "four"}}, "student.epochs", "'four'"),
        ({"teacher": {"threshold": 1}}, "teacher.threshold", None),
        ({"threshold": "high"}, "threshold", "'high'"),
        ({"seed": "abc"}, "seed", "'abc'"),
        ({"data": {"train": ["a.csv"], "test": "b.csv"}}, "data.train", "list"),
        ({"top_k": 1_000_000_000}, "top_k", "1000000000"),
        ({"top_k": True}, "top_k", "True"),
        ({"student": {"batch_size": 2.5}}, "student.batch_size", "2.5"),
        ({"device": "tpu"}, "device", "'tpu'"),
        ({"gate": {"action": "explode"}}, "gate.action", "'explode'"),
        ({"max_silver": -5}, "max_silver", "-5"),
        ({"student": {"loss": "bogus"}}, "student.loss", "'bogus'"),
        ({"student": {"warmup_ratio": 5}}, "student.warmup_ratio", "5"),
        ({"student": {"max_seq_length": 0}}, "student.max_seq_length", "0"),
        ({"augment": {"copies": -1}}, "augment.copies", "-1"),
        ({"student": {"trust_remote_code": "false"}}, "student.trust_remote_code", "'false'"),
        ({"teacher": {"trust_remote_code": "yes"}}, "teacher.trust_remote_code", "'yes'"),
        ({"train_full_gold": "no"}, "train_full_gold", "'no'"),
        ({"student": {"learning_rate": float("inf")}}, "student.learning_rate", "inf"),
        ({"data": {"train": "a.csv", "test": "b.csv", "scale": [0]}}, "data.scale", "list"),
    ],
)
def test_every_bad_value_names_its_key_and_value(override, key, shown):
    with pytest.raises(ConfigError) as caught:
        ExperimentConfig.from_dict({**BASE, **override})
    message = str(caught.value)
    assert f"'{key}'" in message
    if shown:
        assert shown in message
    assert "\n" not in message  # one line per bad key; here one bad key


def test_yaml_1_1_numbers_become_numbers_and_on_off_switches(tmp_path):
    path = _config(
        tmp_path,
        "data: {train: a.csv, test: b.csv}\nstudent:\n  learning_rate: 2e-5\n"
        "teacher:\n  warm_start: off\nensemble: on\n",
    )
    assert yaml.safe_load(path.read_text())["student"]["learning_rate"] == "2e-5"  # what plain YAML gives
    cfg = ExperimentConfig.from_file(path, overrides=["teacher.learning_rate=3e-5", "top_k=4"])
    assert cfg.student.learning_rate == pytest.approx(2e-5) and isinstance(cfg.student.learning_rate, float)
    assert cfg.teacher.learning_rate == pytest.approx(3e-5) and cfg.top_k == 4
    assert (cfg.teacher.warm_start, cfg.ensemble) == ("off", "on")


def test_unknown_keys_get_a_did_you_mean():
    with pytest.raises(ConfigError, match=r"unknown config key 'samplr'; did you mean 'sampler'\?"):
        ExperimentConfig.from_dict({**BASE, "samplr": "bm25"})
    with pytest.raises(ConfigError, match=r"'student.learnig_rate'; did you mean 'student.learning_rate'\?"):
        ExperimentConfig.from_dict({**BASE, "student": {"learnig_rate": 1e-5}})
    with pytest.raises(ConfigError, match=r"unknown config key 'zzz' \(known: "):
        ExperimentConfig.from_dict({**BASE, "zzz": 1})


def test_the_python_api_is_checked_too():
    from augsbert_core.config import ModelConfig

    with pytest.raises(Exception, match="trust_remote_code"):
        ModelConfig(trust_remote_code="false")
    with pytest.raises(Exception, match="batch_size"):
        ModelConfig(batch_size=0)
    assert ModelConfig(learning_rate="1e-4").learning_rate == pytest.approx(1e-4)


def test_json_schema_covers_every_key():
    schema = json_schema()
    props = schema["properties"]
    for key in ExperimentConfig.__dataclass_fields__:
        assert key in props, key
    student = schema["$defs"]["StudentConfig"]["properties"]
    assert student["trust_remote_code"]["type"] == "boolean"
    teacher_losses = schema["$defs"]["TeacherConfig"]["properties"]["loss"]["anyOf"][0]["enum"]
    assert teacher_losses == ["bce", "mse"] and "bce" not in student["loss"]["anyOf"][0]["enum"]  # each role's own
    name, mix = props["sampler"]["anyOf"]  # a sampler's name, or a mix {name: share}
    samplers = {"random", "bm25", "semantic", "bm25+semantic", "kde"}
    assert set(name["enum"]) == set(mix["propertyNames"]["enum"]) == samplers
    assert mix["type"] == "object" and mix["additionalProperties"]["type"] == "number"
    out = cli("config-schema")
    assert out.returncode == 0 and json.loads(out.stdout)["properties"].keys() == props.keys()


def test_docs_config_reference_is_checked_against_the_schema():
    """docs/config.md, the config reference (a YAML block), documents every key of the schema and no other."""
    section = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text()
    block = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    schema = json_schema()
    subs = {
        "data": "DataConfig",
        "student": "StudentConfig",
        "teacher": "TeacherConfig",
        "augment": "AugmentSettings",
        "gate": "GateConfig",
        "teacher_search": "TeacherSearchConfig",
        "label_errors": "LabelErrorsConfig",
    }
    known = set(schema["properties"]) - {"base_dir"}
    assert set(block) == known, f"README vs schema: {sorted(set(block) ^ known)}"
    for name, sub in subs.items():
        fields = set(schema["$defs"][sub]["properties"])
        assert set(block[name]) <= fields, f"README documents {name} keys the schema lacks"
        missing = {key for key in fields if f"{key}:" not in section}
        assert not missing, f"README's config reference does not mention {name}.{sorted(missing)}"


# --- safe YAML ---------------------------------------------------------------------------------------------

BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["name: *i"]
)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    with pytest.raises(ConfigError, match="alias"):
        safe_yaml(BOMB)
    path = _config(tmp_path, BOMB)
    started = time.time()
    out = cli("run", str(path), "--runs-dir", str(tmp_path / "runs"), timeout=60)
    assert out.returncode == 2 and "alias" in out.stderr and time.time() - started < 30
    assert not any((tmp_path / "runs").glob("*/config.json"))
    assert safe_yaml("x: &x {a: 1}\ny: *x\n") == {"x": {"a": 1}, "y": {"a": 1}}  # ordinary aliases still work


def test_deep_nesting_and_python_tags_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="nested too deeply"):
        safe_yaml("[" * 50_000 + "]" * 50_000)
    with pytest.raises(yaml.YAMLError):
        safe_yaml("!!python/object/apply:os.system ['true']")
    out = cli("check", str(_config(tmp_path, "!!python/object/apply:os.system ['echo pwned']")))
    assert out.returncode == 2 and "pwned" not in out.stdout


def test_a_key_given_twice_is_refused_not_silently_replaced(tmp_path):
    """YAML and JSON keep the last of two equal keys; a second `student:` block would replace the first whole."""
    text = "name: x\nstudent: {model: static}\nteacher: {epochs: 1}\nstudent: {epochs: 2}\n"
    with pytest.raises(ConfigError, match=r"'student' appears twice in one mapping \(lines 2 and 4\)"):
        ExperimentConfig.from_file(_config(tmp_path, text))
    nested = "data:\n  train: a.csv\n  test: b.csv\n  train: c.csv\n"
    with pytest.raises(ConfigError, match="'train' appears twice"):
        ExperimentConfig.from_file(_config(tmp_path, nested))
    with pytest.raises(ConfigError, match=r"cfg.json: key 'seed' appears twice"):
        ExperimentConfig.from_file(_config(tmp_path, '{"seed": 1, "seed": 2}', "cfg.json"))
    merged = "base: &b {train: a.csv, test: b.csv}\ndata:\n  <<: *b\n  train: c.csv\n"
    assert safe_yaml(merged)["data"] == {"train": "c.csv", "test": "b.csv"}  # a merge key may be overridden
    out = cli("check", str(_config(tmp_path, text)))
    assert out.returncode == 2 and "appears twice" in out.stderr
    out = cli("sample", "--sentences", "x.csv", "--sampler", "bm25=0.4,random=0.3,bm25=0.3", "--out", "o.csv")
    assert out.returncode == 2 and "'bm25' is named twice" in out.stderr
    out = cli("validate", "x.csv", "--column-map", "q=sentence1,q=sentence2")
    assert out.returncode == 2 and "'q' is mapped twice" in out.stderr


# --- augsbert check ----------------------------------------------------------------------------------------


def test_check_prints_the_plan_and_creates_nothing(tmp_path):
    runs = tmp_path / "runs"
    cfg = _config(
        tmp_path,
        yaml.safe_dump(
            {
                "name": "demo-check",
                "scenario": 2,
                "runs_dir": str(runs),
                "data": {
                    "train": str(DEMO / "stsb" / "train.csv"),
                    "dev": str(DEMO / "stsb" / "dev.csv"),
                    "test": str(DEMO / "stsb" / "test.csv"),
                    "unlabeled": str(DEMO / "stsb" / "unlabeled_pairs.csv"),
                },
            }
        ),
    )
    out = cli("check", str(cfg))
    assert out.returncode == 0, out.stderr
    assert "regression, scale 0-5" in out.stdout and "997 rows" in out.stdout
    assert "silver pairs:" in out.stdout and "rough time on this device:" in out.stdout
    plan = json.loads(cli("check", str(cfg), "--json").stdout)
    assert plan["ok"] and plan["files"]["train"]["rows"] == 997 and plan["files"]["unlabeled"]["pairs"] > 4000
    assert plan["candidates"] == plan["files"]["unlabeled"]["pairs"] and plan["seconds"] > 0
    assert not runs.exists() or not any(runs.iterdir())


def test_check_and_run_fail_on_bad_data_before_any_run_exists(tmp_path):
    runs = tmp_path / "runs"
    bad = tmp_path / "train.csv"
    bad.write_text("sentence1,sentence2,score\nA man sings.,A man sings a song.,4.2\nOnly one,,3\n")
    cfg = _config(
        tmp_path,
        yaml.safe_dump(
            {"scenario": 2, "runs_dir": str(runs), "data": {"train": str(bad), "test": str(tmp_path / "missing.csv")}}
        ),
    )
    for command in ("check", "run"):
        out = cli(command, str(cfg))
        assert out.returncode == 2, out.stderr
        assert "train.csv" in out.stderr or "missing.csv" in out.stderr
    failed = cli("check", str(cfg), "--json")
    assert failed.returncode == 2 and json.loads(failed.stdout)["ok"] is False
    assert not any(runs.glob("*/config.json")), "a run directory was created for bad input"


def test_scale_argument_is_checked(tmp_path):
    for bad in ("5,0", "0,inf", "a,b", "1"):
        out = cli("validate", str(DEMO / "stsb" / "dev.csv"), "--scale", bad)
        assert out.returncode == 2 and "--scale" in out.stderr and "Traceback" not in out.stderr


# --- the run store -----------------------------------------------------------------------------------------


def _finished_and_interrupted(root: Path) -> tuple[RunStore, str, str]:
    store = RunStore(root)
    done = store.create("done", 2, {"name": "done"})
    done.set_status("running")
    done.write_json("metrics.json", {"gold_only": {"test": {"spearman": 0.8}}})
    done.set_status("finished", headline={"gold_only": 0.8})
    cut = store.create("cut", 2, {"name": "cut", **BASE})
    cut.write_json("state.json", {"done": ["zero_shot"], "metrics": {}, "predictions": {}, "timings": {}})
    store.update(cut.id, status="interrupted", error="killed")
    return store, done.id, cut.id


def test_corrupt_run_files_are_one_line_and_leave_the_status(tmp_path):
    store, _done_id, cut_id = _finished_and_interrupted(tmp_path / "runs")
    (store.root / cut_id / "state.json").write_text('{"done": ["zero_')
    out = cli("resume", cut_id, "--runs-dir", str(store.root))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"run {cut_id}: state.json is corrupt" in out.stderr
    assert RunStore(store.root).get(cut_id).status == "interrupted"  # not turned into 'failed'
    (store.root / cut_id / "state.json").unlink()
    (store.root / cut_id / "config.json").write_text("{not json")
    out = cli("resume", cut_id, "--runs-dir", str(store.root))
    assert out.returncode == 2 and f"run {cut_id}: config.json is corrupt" in out.stderr
    assert RunStore(store.root).get(cut_id).status == "interrupted"


@pytest.mark.parametrize("damage", ["empty", "garbage", "deleted"])
def test_a_damaged_index_is_read_around_and_rebuilt(tmp_path, damage):
    store, done_id, cut_id = _finished_and_interrupted(tmp_path / "runs")
    for suffix in ("-wal", "-shm"):
        Path(f"{store.db_path}{suffix}").unlink(missing_ok=True)
    if damage == "empty":
        store.db_path.write_bytes(b"")
    elif damage == "garbage":
        store.db_path.write_bytes(b"this is not a database" * 100)
    else:
        store.db_path.unlink()
    out = cli("runs", "--runs-dir", str(store.root), "--json")
    assert out.returncode == 0, out.stderr
    listed = {r["id"]: r["status"] for r in json.loads(out.stdout)}
    assert listed == {done_id: "finished", cut_id: "interrupted"}, "a damaged index must not read as 'no runs'"
    if damage == "garbage":
        assert "unreadable" in out.stderr and "--rebuild-index" in out.stderr
    rebuilt = cli("runs", "--runs-dir", str(store.root), "--rebuild-index")
    assert rebuilt.returncode == 0 and "2 run(s)" in rebuilt.stderr
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute("UPDATE runs SET name = name")
print("locked", flush=True)
time.sleep(40)
"""


def test_runs_answers_during_an_exclusive_write_lock(tmp_path):
    store, done_id, cut_id = _finished_and_interrupted(tmp_path / "runs")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(store.db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.time()
        out = cli("runs", "--runs-dir", str(store.root), timeout=60)
        waited = time.time() - started
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert done_id in out.stdout and cut_id in out.stdout
    assert "busy" in out.stderr and waited < 20


def test_readers_do_not_write(tmp_path):
    store = RunStore(tmp_path / "runs")
    ghost = store.create("ghost", 2, {"name": "ghost"})
    store.update(ghost.id, status="running", pid=2**22 + 12345)  # no such process
    before = (ghost.dir / "run.json").read_bytes()
    assert [r.status for r in RunStore(store.root).list()] == ["interrupted"]  # shown as it is...
    assert (ghost.dir / "run.json").read_bytes() == before  # ...without writing
    assert store.reconcile() == [ghost.id]  # a writer records it
    assert json.loads((ghost.dir / "run.json").read_text())["status"] == "interrupted"


def test_whole_epochs_stay_whole_numbers():
    cfg = ExperimentConfig.from_dict({**BASE, "student": {"epochs": 2.0}, "teacher": {"epochs": "3"}})
    assert (cfg.student.epochs, cfg.teacher.epochs) == (2, 3)
    assert isinstance(cfg.student.epochs, int) and json.dumps(cfg.to_dict()["student"]["epochs"]) == "2"
    assert ExperimentConfig.from_dict({**BASE, "student": {"epochs": 0.5}}).student.epochs == 0.5


def test_a_scale_whose_span_overflows_is_refused_everywhere(tmp_path):
    """--scale=-1e308,1e308 overflowed (high - low = inf) and turned every label into 0."""
    from augsbert_core.io.data import load_pairs

    with pytest.raises(ConfigError, match="data.scale: the span must be a finite number"):
        ExperimentConfig.from_dict({"data": {"train": "a.csv", "test": "b.csv", "scale": [-1e308, 1e308]}})
    out = cli("validate", str(DEMO / "stsb" / "train.csv"), "--scale=-1e308,1e308")
    assert out.returncode == 2 and "finite span" in out.stderr
    with pytest.raises(ValueError, match="finite span"):
        load_pairs(DEMO / "stsb" / "train.csv", scale=(-1e308, 1e308))
