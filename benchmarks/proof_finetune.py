"""The proof: does pre-training vit_lite on a formula-driven stream help fine-tuning on real images?

    python benchmarks/proof_finetune.py [--reduced] [--out DIR]

Pre-trains vit_lite (32 px) on a 1,000-category `ofdb` stream (100 in the reduced form;
supervised, the trainer's `fast` preset), then fine-tunes it on Fashion-MNIST with 100 images per
class (1,000 images) and on the full 60,000, three seeds each, against the same fine-tune from random
weights, and reports the mean ± std test accuracy on the 10,000 test images. `--reduced` (a CPU
machine) shortens every schedule and skips the 60k fine-tune; the table says which form ran.
Writes results/<date>-proof.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from fdsl_gen.bench import machine
from fdsl_gen.train.config import RunConfig, finetune_config, pretrain_config
from fdsl_gen.train.finetune import finetune
from fdsl_gen.train.pretrain import pretrain

RESULTS = Path(__file__).parent / "results"
FULL = {"categories": 1000, "pre_steps": 20_000, "pre_batch": 256, "ft_epochs": {100: 100, None: 30},
        "ft_batch": 128}
# a 2-core CPU: 1,000 categories do not move from chance (loss ln 1000) in the ~250 steps it can afford,
# so the reduced form pre-trains on the first 100 categories
REDUCED = {"categories": 100, "pre_steps": 500, "pre_batch": 128, "ft_epochs": {100: 12}, "ft_batch": 100}
SEEDS = (0, 1, 2)


def run(args) -> dict:
    plan = REDUCED if args.reduced else FULL
    work = args.out
    started = time.time()
    pre = pretrain(pretrain_config("fast", RunConfig(out=str(work / "pretrain"), progress=False),
                                   categories=plan["categories"], steps=plan["pre_steps"],
                                   batch_size=plan["pre_batch"]), echo=lambda *_: None)
    pre_minutes = (time.time() - started) / 60
    rows = []
    for subset, epochs in plan["ft_epochs"].items():
        for init in (str(work / "pretrain"), None):
            accs = []
            for seed in SEEDS:
                name = f"{'pre' if init else 'scratch'}-{subset or 'all'}-s{seed}"
                cfg = finetune_config(RunConfig(out=str(work / name), seed=seed, progress=False), init=init,
                                      model=None if init else "vit_lite", subset=subset, epochs=epochs,
                                      batch_size=plan["ft_batch"], eval_every=epochs)
                accs.append(finetune(cfg, echo=lambda *_: None)["test_acc"])
                print(f"{name}: test accuracy {accs[-1]:.4f}", flush=True)
            rows.append({"train_images": 10 * subset if subset else 60_000, "init": "ofdb stream" if init else
                         "scratch", "epochs": epochs, "accuracies": accs, "mean": statistics.mean(accs),
                         "std": statistics.stdev(accs)})
    return {"benchmark": "proof", "form": "reduced (CPU)" if args.reduced else "full", "machine": machine(),
            "pretrain": {"db": "ofdb", "categories": plan["categories"], "model": "vit_lite", "image_size": 32,
                         "steps": plan["pre_steps"], "batch": plan["pre_batch"], "final": pre,
                         "minutes": pre_minutes},
            "finetune_batch": plan["ft_batch"], "seeds": list(SEEDS), "rows": rows,
            "minutes": (time.time() - started) / 60}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reduced", action="store_true", help="short schedules, no 60k fine-tune (a CPU machine)")
    ap.add_argument("--out", type=Path, default=Path("proof-runs"))
    args = ap.parse_args()
    result = run(args)
    path = RESULTS / f"{time.strftime('%Y-%m-%d')}-proof.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(f"\n{result['form']}: vit_lite 32 px, pre-trained {result['pretrain']['steps']} steps × "
          f"{result['pretrain']['batch']} on ofdb ({result['pretrain']['categories']} categories); "
          f"Fashion-MNIST test accuracy, mean ± std over seeds {SEEDS}\n")
    print("| training images | init | epochs | accuracy |\n|---|---|---|---|")
    for r in result["rows"]:
        print(f"| {r['train_images']:,} | {r['init']} | {r['epochs']} | "
              f"{100 * r['mean']:.2f} ± {100 * r['std']:.2f} % |")
    print(f"\nwrote {path} ({result['minutes']:.0f} min)")


if __name__ == "__main__":
    main()
