"""Contour rendering (VisualAtom, RCDB), the reference: plain Python and NumPy, written to be read.

The executable specification of docs/spec/contours.md §1.5-1.7 and §2.5 (float64 geometry evaluated
left to right as the originals, the float32 noise of `noise.py`, Pillow's 1-pixel line):

    start polygon, v = 0 .. q-1, theta_v = (2 pi / q) v:
        VisualAtom  X_v = cos(theta_v) r0 sx + xc      RCDB  X_v = cos(theta_v) r0 sx
    orbit k = 1 .. K, with gray g_k and fresh noise P (x and y independent):
        VisualAtom  N_v = P eta - eta - 0.5 sin(theta_v n1) - 0.5 sin(theta_v n2)
        RCDB        N_v = P eta 2 - eta
        X_v -= cos(theta_v) (N_v - c)     (likewise Y with sin and its own noise)
        draw the closed polygon (RCDB: shifted by the centre) in gray g_k

The orbit draws (gray, noise positions) come from Philox (native) or, for the published replay, from
the released script's own stream (`orbit_draws`). Every segment is drawn with integer Bresenham from
truncated endpoints, both ends included, each pixel clipped to the canvas; later orbits overwrite
earlier ones, so a pixel ends with the gray of the highest orbit that touched it. Every other backend
must equal this one bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from ... import rng
from .batch import NOISE_SCALE, RCDB, ContourBatch, ContourSettings, orbit_steps
from .mt19937 import WordStream
from .noise import pnoise1


def line_pixels(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Pixels (x, y) of a 1-px line as Pillow draws it: Bresenham from (x0, y0), then the end pixel."""
    dx, xs = (x1 - x0, 1) if x1 >= x0 else (x0 - x1, -1)
    dy, ys = (y1 - y0, 1) if y1 >= y0 else (y0 - y1, -1)
    pixels = []
    if dx == 0 or dy == 0:  # spans (and the single pixel of a zero-length segment)
        for _ in range(max(dx, dy)):
            pixels.append((x0, y0))
            x0, y0 = x0 + (xs if dx else 0), y0 + (ys if dy else 0)
    elif dx > dy:
        e = 2 * dy - dx
        for _ in range(dx):
            pixels.append((x0, y0))
            if e >= 0:
                y0 += ys
                e -= 2 * dx
            e += 2 * dy
            x0 += xs
    else:
        e = 2 * dx - dy
        for _ in range(dy):
            pixels.append((x0, y0))
            if e >= 0:
                x0 += xs
                e -= 2 * dy
            e += 2 * dx
            y0 += ys
    pixels.append((x1, y1))
    return pixels


def orbit_draws(batch: ContourBatch, b: int, settings: ContourSettings, q: int):
    """Yield (gray, ux [q], uy [q]) per orbit of image b: its gray and noise positions, in drawing order.

    Native: from the image's Philox words. Published replay: the released script's calls on its stream,
    gray = randint(0, gray_levels - 1), then q and q uniform(0, 10000) (docs/spec/contours.md §2.7).
    """
    n_orbits = int(batch.orbits[b])
    if batch.mt_state is not None:
        stream = WordStream(batch.mt_state[b])
        for _ in range(n_orbits):
            gray = min(stream.randint(0, settings.gray_levels - 1), 255)
            u = stream.uniforms(0, 10000, 2 * q)
            yield gray, u[:q], u[q:]
        return
    category, instance = (int(k) for k in batch.key[b])
    steps = orbit_steps(q)
    words = rng.philox_words(settings.seed, settings.stream, category, instance, 4 * steps * n_orbits)
    for k in range(n_orbits):
        w = words[4 * steps * k :]
        u = w[1 : 1 + 2 * q].astype(np.float64) * NOISE_SCALE
        yield min(int(rng.bounded(w[0], settings.gray_levels)), 255), u[:q], u[q:]


def polygons(batch: ContourBatch, b: int, settings: ContourSettings):
    """Yield (gray, xs [q], ys [q]) per orbit of image b: the drawn polygon's float64 vertices, in order."""
    q, eta, c = int(batch.vertices[b]), float(batch.eta[b]), float(batch.c[b])
    r0, sx, sy = float(batch.r0[b]), float(batch.sx[b]), float(batch.sy[b])
    xc, yc, n1, n2 = float(batch.xc[b]), float(batch.yc[b]), int(batch.n1[b]), int(batch.n2[b])
    rcdb = settings.kind == RCDB
    angle = (2 * math.pi) / q
    cos = [math.cos(angle * v) for v in range(q)]  # the C library's sin/cos, as the originals
    sin = [math.sin(angle * v) for v in range(q)]
    wave1 = [0.5 * math.sin(angle * v * n1) for v in range(q)]
    wave2 = [0.5 * math.sin(angle * v * n2) for v in range(q)]
    if rcdb:
        xs = [cos[v] * r0 * sx for v in range(q)]
        ys = [sin[v] * r0 * sy for v in range(q)]
    else:
        xs = [cos[v] * r0 * sx + xc for v in range(q)]
        ys = [sin[v] * r0 * sy + yc for v in range(q)]
    for gray, ux, uy in orbit_draws(batch, b, settings, q):
        px, py = pnoise1(ux).astype(np.float64).tolist(), pnoise1(uy).astype(np.float64).tolist()
        for v in range(q):
            if rcdb:
                nx = px[v] * eta * 2 - eta
                ny = py[v] * eta * 2 - eta
            else:
                nx = px[v] * eta - eta - wave1[v] - wave2[v]
                ny = py[v] * eta - eta - wave1[v] - wave2[v]
            xs[v] -= cos[v] * (nx - c)
            ys[v] -= sin[v] * (ny - c)
        if rcdb:
            yield gray, np.array([x + xc for x in xs]), np.array([y + yc for y in ys])
        else:
            yield gray, np.array(xs), np.array(ys)


def render(batch: ContourBatch, settings: ContourSettings) -> np.ndarray:
    """Render a batch. Returns uint8 [B, 1, S, S]."""
    s = settings.size
    out = np.full((batch.size, 1, s, s), settings.background, dtype=np.uint8)
    for b in range(batch.size):
        img = out[b, 0]
        for gray, xs, ys in polygons(batch, b, settings):
            q = xs.shape[0]
            for v in range(q):
                w = (v + 1) % q
                for x, y in line_pixels(int(xs[v]), int(ys[v]), int(xs[w]), int(ys[w])):
                    if 0 <= x < s and 0 <= y < s:
                        img[y, x] = gray
    return out
