"""Write the README's figures: ``python docs/figures/make_figures.py [OUT_DIR] [--dpi DPI]``.

Each figure is one ``ll.viz`` call on the curriculum's own example:

- ``loss_curves.png``: MSE, MAE and Huber (δ = 1.5) with their derivatives against the error;
- ``optimizer_paths.png``: gradient descent (η = 0.15), EMA momentum (η = 0.3, β = 0.9) and Adam
  (η = 0.25) for 60 steps on the ill-conditioned bowl ½(w₁² + 10 w₂²) from (3.5, 3.5);
- ``focal_effect.png``: the focal loss against p_t for γ = 0, 1, 2, 5.
"""

from __future__ import annotations

import argparse
import pathlib

import losslab as ll

HERE = pathlib.Path(__file__).resolve().parent


def make_figures(out_dir: pathlib.Path | str = HERE, *, dpi: float = 110) -> list[pathlib.Path]:
    """Write the figures into ``out_dir``; return their paths."""
    out = pathlib.Path(out_dir)
    written = [
        ll.viz.save(
            ll.viz.loss_curves(["mse", "mae", ("huber", {"delta": 1.5})]), out / "loss_curves.png", dpi=dpi
        )
    ]
    bowl = ll.landscape.functions.get("quadratic_bowl")
    rates = {"gd": 0.15, "momentum": 0.3, "adam": 0.25}
    optimizers = {
        "gd": ll.optim.gd(lr=rates["gd"]),
        # the curriculum's EMA form: v = 0.9 v + 0.1 g, w -= 0.3 v
        "momentum": ll.optim.chain(ll.optim.ema(0.9), ll.optim.scale_by_learning_rate(rates["momentum"])),
        "adam": ll.optim.adam(lr=rates["adam"]),
    }
    runs = ll.train.race(bowl, optimizers, steps=60)
    labels = {"momentum": "EMA momentum (lr=0.3, β=0.9)"}
    fig = ll.viz.paths(
        bowl, runs, lrs=rates, labels=labels, title="Optimizer paths on an ill-conditioned bowl (60 steps)"
    )
    written.append(ll.viz.save(fig, out / "optimizer_paths.png", dpi=dpi))
    written.append(ll.viz.save(ll.viz.focal_effect((0, 1, 2, 5)), out / "focal_effect.png", dpi=dpi))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(HERE))
    parser.add_argument("--dpi", type=float, default=110)
    args = parser.parse_args(argv)
    for path in make_figures(args.out_dir, dpi=args.dpi):
        print(path)


if __name__ == "__main__":
    main()
