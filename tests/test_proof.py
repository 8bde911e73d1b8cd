"""The proof script's bookkeeping (benchmarks/proof_finetune.py): resumable rows, the table's statistics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import proof_finetune as proof  # noqa: E402


def rows():
    acc = {"scratch": [0.60, 0.62, 0.61], "supervised": [0.58, 0.59, 0.57], "mae": [0.64, 0.66, 0.65]}
    return [{"arm": arm, "eval": "probe", "n_train": 1000, "seed": s, "accuracy": a, "form": "cpu"}
            for arm, values in acc.items() for s, a in enumerate(values)]


def test_table_gives_means_spreads_and_paired_differences():
    text = proof.table({"rows": rows()})
    line = next(row for row in text.splitlines() if row.startswith("| probe | 1,000 |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2:5] == ["61.00 ± 1.00", "58.00 ± 1.00", "65.00 ± 1.00"]
    # paired by seed: supervised − scratch = −2, −3, −4 points: mean −3, std 1, standard error 1/√3
    assert cells[5] == "-3.00 ± 0.58" and cells[6] == "+4.00 ± 0.00"


def test_results_resume_and_refuse_another_plan(tmp_path):
    path = tmp_path / "proof.json"
    results = proof.Results(path, "cpu", proof.FORMS["cpu"])
    for row in rows()[:4]:
        results.add(**row)
    again = proof.Results(path, "cpu", proof.FORMS["cpu"])
    assert ("supervised", "probe", 1000, 0) in again.done and ("mae", "probe", 1000, 0) not in again.done
    assert len(json.loads(path.read_text())["rows"]) == 4
    with pytest.raises(SystemExit, match="another form or plan"):
        proof.Results(path, "gpu", proof.FORMS["gpu"])


def test_every_row_has_the_fields_the_issue_asks_for():
    row = rows()[0]
    assert set(row) >= {"arm", "eval", "n_train", "seed", "accuracy", "form"}
    assert set(proof.ARMS) == {"scratch", "supervised", "mae"} and proof.SEEDS == (0, 1, 2)
    assert set(proof.FORMS["cpu"]["finetune"]) == {1000} and set(proof.FORMS["gpu"]["finetune"]) == {1000, 60000}
