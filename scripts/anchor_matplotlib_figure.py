#!/usr/bin/env python3
"""The figure `losscape render --preset beale --out fig.svg|pdf --legend --title ...` makes, made the usual
way with matplotlib: Beale's function as a colormap image with contour lines, the paths of four optimizers
(SGD, Momentum, RMSProp, Adam with the lesson's settings, lecture formulas) up to step K, a ball at each
end, a start ring, a legend, axes with ticks and a title, then savefig as SVG or PDF (the format from the
extension), 640 x 480 pixels at 100 dpi. Prints its own time for savefig on stderr.
usage: anchor_matplotlib_figure.py OUT.svg|OUT.pdf [steps]   (pip install numpy matplotlib)"""
import sys, time
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200

def f(x, y):
    return (1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2
def grad(p):
    x, y = p
    a, b, c = 1.5 - x + x*y, 2.25 - x + x*y**2, 2.625 - x + x*y**3
    return np.array([2*a*(y-1) + 2*b*(y**2-1) + 2*c*(y**3-1), 2*a*x + 4*b*x*y + 6*c*x*y**2])

def run(kind, lr, start=(-1.5, 2.0), bm=0.9, br=0.999, eps=1e-8):
    p = np.array(start, float); v = np.zeros(2); s = np.zeros(2); path = [p.copy()]
    for t in range(1, steps + 1):
        g = grad(p)
        if kind == "sgd": p = p - lr*g
        elif kind == "momentum": v = bm*v + (1-bm)*g; p = p - lr*v
        elif kind == "rmsprop": s = br*s + (1-br)*g*g; p = p - lr*g/(np.sqrt(s)+eps)
        elif kind == "adam":
            v = bm*v + (1-bm)*g; s = br*s + (1-br)*g*g
            p = p - lr*(v/(1-bm**t))/np.sqrt(s/(1-br**t)+eps)
        path.append(p.copy())
    return np.array(path)

runs = [("SGD", "sgd", 0.001), ("Momentum", "momentum", 0.01), ("RMSProp", "rmsprop", 0.01), ("Adam", "adam", 0.05)]
paths = {name: run(kind, lr) for name, kind, lr in runs}
xs, ys = np.meshgrid(np.linspace(-4.5, 4.5, 256), np.linspace(-4.5, 4.5, 256))
zs = np.log1p(f(xs, ys))
fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
ax.imshow(zs, extent=(-4.5, 4.5, -4.5, 4.5), origin="lower", cmap="viridis")
ax.contour(xs, ys, zs, levels=35, colors="black", linewidths=0.6, alpha=0.35)
for name, _, lr in runs:
    pth = paths[name]
    line, = ax.plot(pth[:, 0], pth[:, 1], lw=2, label=f"{name}  η {lr}")
    ax.plot(pth[-1:, 0], pth[-1:, 1], "o", ms=8, color=line.get_color(), mec="black")
ax.plot([-1.5], [2.0], "o", ms=12, mfc="none", mec="white")
ax.legend(loc="upper right")
ax.set_title("Beale: four optimizers")
ax.set_xlabel("x"); ax.set_ylabel("y")
start = time.perf_counter()
fig.savefig(out)
print(f"savefig {time.perf_counter() - start:.3f} s", file=sys.stderr)
