"""The released RCDB and VisualAtom scripts, written out from docs/spec/contours.md §2.7 for the tests.

Straightforward and slow on purpose: Python's own `random` seeded with thread + 1, the `noise` package's
pnoise1, and Pillow's `ImageDraw.line` on an RGB canvas, one call per segment, in the scripts' order.
"""

import csv
import io
import math
import random

import noise  # a declared test dependency: the originals' library (an import error fails, never skips)
import numpy as np
from PIL import Image, ImageDraw


def _canvas(size, background):
    img = Image.new("RGB", (size, size), (background,) * 3)
    return img, ImageDraw.Draw(img)


def original_visual_atom(f, processes, thread):
    """{class: (params, [centre per instance], [image [S, S, 3] per instance])} of one process of the script."""
    r = random.Random(thread + 1)
    size, pos, per = f["size"], f["start_pos"], f["categories"] // processes
    written = {}
    for cls in range(thread * per + f["start_class"], (thread + 1) * per + f["start_class"]):
        q = r.randint(f["vertex_num_min"], f["vertex_num_max"])
        k = r.randint(f["line_num_min"], f["line_num_max"])
        eta = r.uniform(f["perlin_min"], f["perlin_min"] + 4)
        c = r.uniform(0.0, f["line_width"])
        r0 = r.randint(f["radius_min"], f["radius_min"] + 50)
        n1 = r.randint(f["nami_1_min"], f["nami_1_max"])
        n2 = r.randint(f["nami_2_min"], f["nami_2_max"])
        while n2 == n1 and n1 != 0:
            n2 = r.randint(f["nami_2_min"], f["nami_2_max"])
        sx, sy = r.uniform(1, f["oval_rate"]), r.uniform(1, f["oval_rate"])
        yc = (size + r.randint(-pos, pos)) / 2
        xc = (size + r.randint(-pos, pos)) / 2
        params = {"vertices": q, "orbits": k, "eta": eta, "c": c, "r0": r0, "n1": n1, "n2": n2, "sx": sx, "sy": sy}
        centres, images = [], []
        for _ in range(f["instances"]):
            centres.append((yc, xc))
            img, draw = _canvas(size, 0)
            angle = (math.pi * 2) / q
            xs = [math.cos(angle * v) * r0 * sx + xc for v in range(q)]
            ys = [math.sin(angle * v) * r0 * sy + yc for v in range(q)]
            for _ in range(k):
                gray = r.randint(0, 255)
                nx = [noise.pnoise1(r.uniform(0, 10000)) * eta - eta - 0.5 * math.sin(angle * v * n1)
                      - 0.5 * math.sin(angle * v * n2) for v in range(q)]
                ny = [noise.pnoise1(r.uniform(0, 10000)) * eta - eta - 0.5 * math.sin(angle * v * n1)
                      - 0.5 * math.sin(angle * v * n2) for v in range(q)]
                for v in range(q):
                    xs[v] -= math.cos(angle * v) * (nx[v] - c)
                    ys[v] -= math.sin(angle * v) * (ny[v] - c)
                for v in range(q):
                    draw.line((xs[v], ys[v], xs[(v + 1) % q], ys[(v + 1) % q]), fill=(gray, gray, gray), width=1)
            images.append(np.asarray(img))
            yc = (size + r.randint(-pos, pos)) / 2
            xc = (size + r.randint(-pos, pos)) / 2
        written[cls] = (params, centres, images)
    return written


def original_rcdb(f, processes, thread):
    """{class: (param CSV bytes, [(r0, sx, sy, yc, xc) per instance], [image per instance])} of one process."""
    r = random.Random(thread + 1)
    size, pos, per = f["size"], f["start_pos"], f["categories"] // processes
    background = 0 if f.get("background") == "black" else 255
    written = {}
    for cls in range(thread * per, (thread + 1) * per):
        while True:
            v_count = int(r.expovariate(1 / 100))
            if 2 < v_count <= f["vertex_num"]:
                break
        k = r.randint(f["line_num_min"], f["line_num_min"] + 199)
        eta = r.uniform(f["perlin_min"], f["perlin_min"] + 4)
        c = r.uniform(0.0, f["line_width"])
        r0 = r.randint(f["radius_min"], f["radius_min"] + 100)
        sx, sy = r.uniform(1, f["oval_rate"]), r.uniform(1, f["oval_rate"])
        yc = (size + r.randint(-pos, pos)) / 2
        xc = (size + r.randint(-pos, pos)) / 2
        buf = io.StringIO()
        for row in (("Vertex", v_count), ("Perlin_noise", eta), ("line_width", c), ("Center_rad", r0), ("Line_num", k),
                    ("Oval_rate_x", sx), ("Oval_rate_y", sy), ("start_pos_h", yc), ("start_pos_w", xc)):
            csv.writer(buf).writerow(row)
        values, images = [], []
        for _ in range(f["instances"]):
            values.append((r0, sx, sy, yc, xc))
            img, draw = _canvas(size, background)
            angle = (math.pi * 2) / v_count
            xs = [math.cos(angle * v) * r0 * sx for v in range(v_count)]
            ys = [math.sin(angle * v) * r0 * sy for v in range(v_count)]
            for _ in range(k):
                gray = r.randint(0, size // 2)  # the script passes size / 2, a float Python 3.11 takes as this int
                nx = [noise.pnoise1(r.uniform(0, 10000)) * eta * 2 - eta for _ in range(v_count)]
                ny = [noise.pnoise1(r.uniform(0, 10000)) * eta * 2 - eta for _ in range(v_count)]
                for v in range(v_count):
                    xs[v] -= math.cos(angle * v) * (nx[v] - c)
                    ys[v] -= math.sin(angle * v) * (ny[v] - c)
                for v in range(v_count):
                    w = (v + 1) % v_count
                    draw.line((xs[v] + xc, ys[v] + yc, xs[w] + xc, ys[w] + yc), fill=(gray, gray, gray), width=1)
            images.append(np.asarray(img))
            sx, sy = r.uniform(1, f["oval_rate"]), r.uniform(1, f["oval_rate"])
            r0 = r.randint(f["radius_min"], f["radius_min"] + 100)
            yc = (size + r.randint(-pos, pos)) / 2
            xc = (size + r.randint(-pos, pos)) / 2
        written[cls] = (buf.getvalue().encode(), values, images)
    return written
