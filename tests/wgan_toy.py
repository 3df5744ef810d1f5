"""The toy WGAN-GP shared by the adversarial and model-critic tests.

A 1-D affine generator ``a z + b`` (z ~ N(0, 1)) trained against N(3, 0.5^2) with the one-sided
gradient penalty and Adam (betas 0.5, 0.9, as Gulrajani et al.); five critic steps per generator
step. The one-sided penalty lets a 1-D critic flip its slope without crossing the |D'| = 0
barrier of height lambda that the two-sided penalty puts in the way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import losslab as ll


def train_affine_generator(
    critic: Any, critic_params: dict[str, np.ndarray], rng: np.random.Generator, *, steps: int = 500
) -> tuple[float, float, dict[str, np.ndarray]]:
    """Train and return ``(a, b, critic_params)``."""
    gen = {"ab": np.array([1.0, 0.0])}
    critic_opt = ll.optim.adam(lr=0.02, betas=(0.5, 0.9))
    gen_opt = ll.optim.adam(lr=ll.optim.schedules.cosine_decay(0.02, T_max=steps), betas=(0.5, 0.9))
    critic_state, gen_state = critic_opt.init(critic_params), gen_opt.init(gen)
    for _ in range(steps):
        for _ in range(5):
            real = rng.normal(3.0, 0.5, size=(128, 1))
            fake = gen["ab"][0] * rng.normal(size=(128, 1)) + gen["ab"][1]
            _, grads = ll.losses.wgan_gp_critic(critic, critic_params, real, fake, one_sided=True, rng=rng)
            critic_params, critic_state = ll.optim.step(critic_opt, grads, critic_state, critic_params)
        z = rng.normal(size=(128, 1))
        fake = gen["ab"][0] * z + gen["ab"][1]
        _, d_scores = ll.losses.wgan_generator.value_and_grad(critic.apply(critic_params, fake))
        d_fake = d_scores * critic.input_grad(critic_params, fake)[:, 0]
        gen_grads = {"ab": np.array([d_fake @ z[:, 0], d_fake.sum()])}
        gen, gen_state = ll.optim.step(gen_opt, gen_grads, gen_state, gen)
    a, b = gen["ab"]
    return float(a), float(b), critic_params
