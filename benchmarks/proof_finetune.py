"""The proof: does pre-training vit_lite on the formula-driven stream help on real images?

    python benchmarks/proof_finetune.py --form cpu|gpu [--work DIR] [--out FILE]

Three arms, one model (vit_lite, 32 px, Tan 2024's lightweight ViT):
  scratch      random weights
  supervised   pre-trained to classify ofdb categories on the stream
  mae          pre-trained as a masked autoencoder on the same stream (mask 0.75, 2-block decoder)
Both pre-trainings take the same steps of the same batches: the stream is seeded, its images do not
depend on the objective (MAE only turns RandAugment and erasing off, which the `small` preset has off
already), and the renders are on a 64² canvas (`canvas`), not the published 362².

Every arm is evaluated on Fashion-MNIST's 10,000 test images by
  probe        a linear probe on frozen features (`fdsl_gen.train.probe`), with 1,000 training images
               (100 per class) and with all 60,000;
  finetune     the whole network trained on 1,000 images (and on 60,000 in the GPU form), on a fixed
               long schedule (see FORMS for how each was chosen and what it reaches).
Seeds 0, 1, 2 choose the 1,000 images, the scratch weights, the new head, the order and the draws;
the pre-training runs once per objective (seed 0), so the spread is that of the evaluation.

Rows are written to the JSON file as they finish and a rerun skips what is there, so a killed run
continues where it stopped. Prints the Markdown table: mean ± std per arm and evaluation, and each
pre-trained arm minus scratch, paired by seed (the same 1,000 images), with its standard error.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from fdsl_gen.bench import machine
from fdsl_gen.train import checkpoint, data, probe, runtime
from fdsl_gen.train.config import RunConfig, finetune_config, pretrain_config
from fdsl_gen.train.finetune import finetune
from fdsl_gen.train.pretrain import pretrain
from fdsl_gen.train.vit import VisionTransformer, make_config

RESULTS = Path(__file__).parent / "results"
ARMS = ("scratch", "supervised", "mae")
SEEDS = (0, 1, 2)
MODEL, IMAGE_SIZE = "vit_lite", 32
# CPU: 2 cores, <= 90 minutes. 100 categories (1,000 do not leave chance in the steps a CPU affords; 100
# leave it after about 150 steps). The 1,000-image fine-tune is 35 epochs of 32 steps (1,120 steps): what
# the budget allows. The pilot (scratch, batch 64, a 60-epoch schedule) was still gaining about a point of
# training accuracy per epoch at epoch 22 (61 %), so each row records its final training accuracy.
# GPU: one H200, <= 4 minutes by an estimate of ~50 vit_lite steps/s (unmeasured: no GPU has run it yet);
# larger fine-tune batches than the CPU form's, because small steps are launch-bound on a GPU.
FORMS = {
    "cpu": {"categories": 100, "pre_steps": 800, "pre_batch": 128,
            "finetune": {1000: {"epochs": 35, "batch": 32}}},
    "gpu": {"categories": 1000, "pre_steps": 1200, "pre_batch": 256,
            "finetune": {1000: {"epochs": 40, "batch": 128}, 60000: {"epochs": 2, "batch": 256}}},
}


def row_key(row: dict) -> tuple:
    return row["arm"], row["eval"], row["n_train"], row["seed"]


class Results:
    """The result file: rows added one at a time, each write atomic."""

    def __init__(self, path: Path, form: str, plan: dict):
        self.path = path
        old = json.loads(path.read_text()) if path.is_file() else {}
        if old and (old.get("form") != form or old.get("plan") != json.loads(json.dumps(plan))):
            raise SystemExit(f"{path} holds another form or plan: give another --out")
        self.doc = old or {"benchmark": "proof", "form": form, "plan": plan, "machine": machine(),
                           "model": MODEL, "image_size": IMAGE_SIZE, "pretrain": {}, "rows": [], "seconds": {}}
        self.done = {row_key(r) for r in self.doc["rows"]}

    def add(self, **row) -> None:
        self.doc["rows"].append(row)
        self.done.add(row_key(row))
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.doc, indent=1, default=str) + "\n")
        tmp.replace(self.path)


def timed(results: Results, name: str, seconds: float) -> None:
    results.doc["seconds"][name] = round(results.doc["seconds"].get(name, 0.0) + seconds, 1)


def pretrained(work: Path, objective: str, plan: dict, results: Results) -> Path:
    """The run folder of this objective's pre-training, trained now unless a finished one is there."""
    out = work / f"pretrain-{objective}"
    meta = out / checkpoint.META_FILE
    if meta.is_file() and json.loads(meta.read_text()).get("step") == plan["pre_steps"]:
        return out
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.time()
    cfg = pretrain_config("fast", RunConfig(out=str(out), progress=False, log_every=50,
                                            ckpt_every=plan["pre_steps"]),
                          db="ofdb", categories=plan["categories"], model=MODEL, image_size=IMAGE_SIZE,
                          objective=objective, steps=plan["pre_steps"], batch_size=plan["pre_batch"])
    last = pretrain(cfg, echo=lambda *a: print(f"  [{objective}]", *a, flush=True))
    results.doc["pretrain"][objective] = {"final": last, "minutes": round((time.time() - t0) / 60, 2)}
    timed(results, f"pretrain {objective}", time.time() - t0)
    results.save()
    return out


def encoder(arm: str, seed: int, work: Path):
    """(model, normalisation) of an arm: the pre-trained encoder, or seeded random weights."""
    if arm == "scratch":
        torch.manual_seed(seed)
        return VisionTransformer(make_config(MODEL, img_size=IMAGE_SIZE, num_classes=0)), {"mean": [0.5] * 3,
                                                                                            "std": [0.5] * 3}
    state, meta = checkpoint.load(work / f"pretrain-{arm}")
    model = VisionTransformer(make_config(MODEL, img_size=IMAGE_SIZE, num_classes=0))
    checkpoint.load_pretrained(model, state)
    return model, meta["normalize"]


def run_probes(arm: str, work: Path, train, test, form: str, results: Results, device) -> None:
    """Linear probes of one arm at 1,000 and 60,000 images, every seed; features once per model."""
    features = None
    for seed in SEEDS:
        todo = [n for n in (1000, 60000) if (arm, "probe", n, seed) not in results.done]
        if not todo:
            continue
        if features is None or arm == "scratch":  # a pre-trained arm's features do not depend on the seed
            t0 = time.time()
            model, norm = encoder(arm, seed, work)
            model.to(device)
            features = (probe.extract_features(model, train, IMAGE_SIZE, norm, device),
                        probe.extract_features(model, test, IMAGE_SIZE, norm, device))
            timed(results, "probe features", time.time() - t0)
        for n in todo:
            t0 = time.time()
            idx = (data.subset_per_class(train.labels, n // 10, seed) if n < len(train)
                   else np.arange(len(train)))
            fit = probe.fit_probe(features[0][idx], train.labels[idx], features[1], test.labels, seed=seed)
            timed(results, "probe fits", time.time() - t0)
            results.add(arm=arm, eval="probe", n_train=n, seed=seed, accuracy=fit["accuracy"], form=form,
                        l2=fit["l2"], held_out_accuracy=fit["held_out_accuracy"])
            print(f"{arm} probe {n} seed {seed}: {fit['accuracy']:.4f} (l2 {fit['l2']:g})", flush=True)


def run_finetunes(work: Path, plan: dict, form: str, results: Results) -> None:
    """Every arm per (size, seed) in turn, so that a run stopped by a deadline holds whole comparisons."""
    for n, schedule in plan["finetune"].items():
        for seed, arm in ((seed, arm) for seed in SEEDS for arm in ARMS):
            if (arm, "finetune", n, seed) in results.done:
                continue
            out = work / f"finetune-{arm}-{n}-s{seed}"
            shutil.rmtree(out, ignore_errors=True)  # an unfinished run starts over
            t0 = time.time()
            init = None if arm == "scratch" else str(work / f"pretrain-{arm}")
            cfg = finetune_config(RunConfig(out=str(out), seed=seed, progress=False, log_every=50),
                                  init=init, model=MODEL if init is None else None, image_size=IMAGE_SIZE,
                                  subset=n // 10 if n < 60000 else None, epochs=schedule["epochs"],
                                  batch_size=schedule["batch"], eval_every=schedule["epochs"])
            last = finetune(cfg, echo=lambda *_: None)
            train_acc = [json.loads(line).get("acc") for line in (out / "log.jsonl").read_text().splitlines()]
            train_acc = [a for a in train_acc if a is not None]
            timed(results, f"finetune {n}", time.time() - t0)
            results.add(arm=arm, eval="finetune", n_train=n, seed=seed, accuracy=last["test_acc"], form=form,
                        epochs=schedule["epochs"], final_train_acc=train_acc[-1] if train_acc else None)
            print(f"{arm} finetune {n} seed {seed}: {last['test_acc']:.4f}", flush=True)


def table(doc: dict) -> str:
    """Markdown: per (eval, n_train) the mean ± std of each arm and each pre-trained arm − scratch (paired)."""
    rows = doc["rows"]
    lines = ["| evaluation | training images | scratch | supervised | MAE | supervised − scratch | "
             "MAE − scratch |", "|---|---|---|---|---|---|---|"]
    for ev, n in sorted({(r["eval"], r["n_train"]) for r in rows}, key=lambda k: (k[0] != "probe", k[1])):
        acc = {arm: {r["seed"]: r["accuracy"] for r in rows if (r["arm"], r["eval"], r["n_train"]) == (arm, ev, n)}
               for arm in ARMS}
        cells = [mean_std(list(acc[arm].values())) for arm in ARMS]
        for arm in ("supervised", "mae"):
            seeds = sorted(set(acc[arm]) & set(acc["scratch"]))
            cells.append(difference([acc[arm][s] - acc["scratch"][s] for s in seeds]))
        lines.append(f"| {ev} | {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_std(values: list[float]) -> str:
    if not values:
        return "–"
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{100 * statistics.mean(values):.2f} ± {100 * spread:.2f}"


def difference(deltas: list[float]) -> str:
    """Mean paired difference in points ± its standard error (std / √n)."""
    if len(deltas) < 2:
        return "–"
    se = statistics.stdev(deltas) / math.sqrt(len(deltas))
    return f"{100 * statistics.mean(deltas):+.2f} ± {100 * se:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--form", choices=tuple(FORMS), default="cpu")
    ap.add_argument("--work", type=Path, default=Path("proof-runs"), help="checkpoints and run folders")
    ap.add_argument("--out", type=Path, help="the result file (default: results/<date>-<form>-proof.json)")
    args = ap.parse_args()
    plan = FORMS[args.form]
    path = args.out or RESULTS / f"{time.strftime('%Y-%m-%d')}-{args.form}-proof.json"
    results = Results(path, args.form, plan)
    work = args.work / args.form
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rt = runtime.start(RunConfig(out=str(work)))
    train = data.fashion_mnist("train")
    test = data.fashion_mnist("test")
    for objective in ("supervised", "mae"):
        pretrained(work, objective, plan, results)
    for arm in ARMS:
        run_probes(arm, work, train, test, args.form, results, rt.device)
    run_finetunes(work, plan, args.form, results)
    timed(results, "total", time.time() - started)
    results.save()
    print(f"\n{args.form} form: {MODEL} {IMAGE_SIZE} px; ofdb ({plan['categories']} categories, 64² canvas), "
          f"{plan['pre_steps']} steps × {plan['pre_batch']}; Fashion-MNIST test accuracy (%), mean ± std over "
          f"seeds {SEEDS}; differences paired by seed ± standard error\n")
    print(table(results.doc))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
