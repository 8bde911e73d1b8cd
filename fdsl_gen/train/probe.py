"""Linear probing: what a frozen encoder's features are worth to a linear classifier.

`extract_features` runs the encoder once over a set, without augmentation (resized and normalised as
in its pre-training), and keeps per image the class token and the mean of the patch tokens after the
final norm: a supervised encoder puts its summary in the class token, an MAE encoder mostly in the
patch tokens, and the probe should not favour either. `fit_probe` standardises the features with the
training images' mean and std (MAE's parameter-free BatchNorm before its probe head) and fits softmax
regression by full-batch L-BFGS. Its L2 strength is chosen from `L2_GRID` (strongest first, each fit
starting from the previous answer) on a seeded, stratified fifth of the training images held out, then
the probe is refit on all of them from zeros. Nothing else is random, so a
probe's accuracy is a function of the features, the labels and the seed.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import data

L2_GRID = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)  # weight of ½‖W‖² beside the mean cross-entropy
HELD_OUT = 0.2  # the fraction of the training images that chooses the L2 strength


@torch.no_grad()
def extract_features(model, dataset, image_size: int, norm: dict, device, batch_size: int = 500) -> torch.Tensor:
    """float32 [N, 2D] on the CPU: per image of `dataset`, [class token, mean patch token] after the norm."""
    was_training = model.training
    model.eval()
    out = []
    for images, _ in data.batches(dataset, np.arange(len(dataset)), batch_size):
        x = data.prepare(images, image_size, model.cfg.in_chans, norm["mean"], norm["std"], device)
        tokens = model.forward_features(x).float()  # [B, N + 1, D]
        out.append(torch.cat([tokens[:, 0], tokens[:, 1:].mean(dim=1)], dim=1).cpu())
    model.train(was_training)
    return torch.cat(out)


def fit_softmax(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, start=None, iterations: int = 150):
    """(W [D, K], b [K]) minimising mean cross-entropy + l2/2 ‖W‖² (convex), from zeros or `start` (W, b)."""
    weight = torch.zeros(x.shape[1], n_classes) if start is None else start[0].clone()
    bias = torch.zeros(n_classes) if start is None else start[1].clone()
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    x, y = x.float(), y.long()
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=iterations, history_size=20,
                            tolerance_grad=1e-7, tolerance_change=1e-10, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, y) + 0.5 * l2 * (weight * weight).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return weight.detach(), bias.detach()


def accuracy(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> float:
    return float(((x.float() @ weight + bias).argmax(dim=1) == y).double().mean())


def standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Every set scaled by the training set's per-feature mean and std."""
    mean, std = train.mean(dim=0), train.std(dim=0).clamp(min=1e-6)
    return [(t - mean) / std for t in (train, *others)]


def held_out_split(labels: torch.Tensor, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, held-out) indices: HELD_OUT of every class held out, drawn with `seed`."""
    rng = np.random.default_rng([seed, 7])
    fit, held = [], []
    for k in np.unique(labels.numpy()):
        members = rng.permutation(np.flatnonzero(labels.numpy() == k))
        n = max(1, int(round(HELD_OUT * len(members))))
        held.append(members[:n])
        fit.append(members[n:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))


def fit_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
              seed: int = 0, grid=L2_GRID) -> dict:
    """Choose L2 on a held-out fifth, refit on all training features; {"accuracy", "l2", "held_out_accuracy"}."""
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    fit, held = held_out_split(train_y, seed)
    fx, hx = standardise(train_x[fit], train_x[held])
    scores, solution = {}, None
    for l2 in sorted(grid, reverse=True):  # strongest first, each fit starting from the last one's answer
        solution = fit_softmax(fx, train_y[fit], n_classes, l2, solution)
        scores[l2] = accuracy(hx, train_y[held], *solution)
    best = max(sorted(grid, reverse=True), key=lambda l2: scores[l2])  # the strongest of equal scores
    tx, ex = standardise(train_x, test_x)
    w, b = fit_softmax(tx, train_y, n_classes, best)
    return {"accuracy": accuracy(ex, test_y, w, b), "l2": best, "held_out_accuracy": scores[best]}
