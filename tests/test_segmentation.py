"""Segmentation and image losses: hand-worked values, identities, gradients, SSIM, perceptual."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losslab as ll
from loss_cases import central_difference

L = ll.losses
P = np.array([[0.9, 0.1, 0.8, 0.2]])
G = np.array([[1.0, 0.0, 1.0, 0.0]])


def _masks(seed=0, shape=(3, 2, 5)):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.02, 0.98, size=shape), rng.integers(0, 2, size=shape).astype(float)


# --------------------------------------------------------------------------- overlap losses


def test_dice_hand_values():
    # sum p g = 1.7, sum p = 2.0, sum g = 2: Dice = 3.4 / 4 (smooth 0), 4.4 / 5 (smooth 1)
    assert L.dice(P, G, smooth=0.0) == pytest.approx(1 - 3.4 / 4.0, rel=1e-14)
    assert L.dice(P, G) == pytest.approx(1 - 4.4 / 5.0, rel=1e-14)


def test_iou_and_tversky_hand_values():
    # I = 1.7, U = 2 + 2 - 1.7 = 2.3; TP = 1.7, FP = 0.3, FN = 0.3
    assert L.iou(P, G, smooth=0.0) == pytest.approx(1 - 1.7 / 2.3, rel=1e-14)
    ti = 1.7 / (1.7 + 0.3 * 0.3 + 0.7 * 0.3)
    assert L.tversky(P, G, alpha=0.3, beta=0.7, smooth=0.0) == pytest.approx(1 - ti, rel=1e-14)
    assert L.focal_tversky(P, G, alpha=0.3, beta=0.7, smooth=0.0) == pytest.approx(
        (1 - ti) ** 0.75, rel=1e-14
    )


@pytest.mark.parametrize("per_sample", [True, False])
@pytest.mark.parametrize("smooth", [0.0, 0.3, 1.0])
def test_overlap_identities(per_sample, smooth):
    p, g = _masks(1)
    kw = dict(reduction="none", per_sample=per_sample)
    np.testing.assert_allclose(
        L.tversky(p, g, alpha=0.5, beta=0.5, smooth=smooth, **kw),
        L.dice(p, g, smooth=2 * smooth, **kw),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        L.tversky(p, g, alpha=1.0, beta=1.0, smooth=smooth, **kw),
        L.iou(p, g, smooth=smooth, **kw),
        rtol=1e-13,
    )
    t = L.tversky(p, g, alpha=0.2, beta=0.8, smooth=smooth, **kw)
    np.testing.assert_allclose(
        L.focal_tversky(p, g, alpha=0.2, beta=0.8, gamma=2.5, smooth=smooth, **kw), t**2.5, rtol=1e-13
    )
    np.testing.assert_allclose(
        L.focal_tversky(p, g, alpha=0.2, beta=0.8, gamma=1.0, smooth=smooth, **kw), t, rtol=1e-13
    )


def test_tversky_half_half_equals_dice_without_smoothing():
    p, g = _masks(2)
    np.testing.assert_allclose(
        L.tversky(p, g, smooth=0.0, reduction="none"), L.dice(p, g, smooth=0.0, reduction="none"), rtol=1e-13
    )


@pytest.mark.parametrize("seed", range(5))
def test_dice_in_unit_interval_and_zero_for_perfect_mask(seed):
    p, g = _masks(seed, shape=(4, 3, 3))
    for name in ("dice", "iou", "tversky", "focal_tversky"):
        values = L.get(name)(p, g, reduction="none", smooth=0.0)
        assert values.shape == (4,)
        assert np.all((values >= 0) & (values <= 1))
        np.testing.assert_array_equal(L.get(name)(g, g, reduction="none", smooth=0.0), 0.0)
    # hard predictions that miss the mask entirely: Dice 0, loss 1
    np.testing.assert_array_equal(
        L.dice(1 - g, g, reduction="none", smooth=0.0)[g.reshape(4, -1).any(1)], 1.0
    )


def test_per_sample_false_pools_the_batch():
    p, g = _masks(3)
    for name in ("dice", "iou", "tversky", "focal_tversky"):
        pooled = L.get(name)(p, g, per_sample=False, reduction="none")
        assert np.shape(pooled) == ()
        np.testing.assert_allclose(
            pooled, L.get(name)(p.reshape(1, -1), g.reshape(1, -1), reduction="none")[0]
        )


@pytest.mark.parametrize("name", ["dice", "iou", "tversky", "focal_tversky"])
@pytest.mark.parametrize("per_sample", [True, False])
def test_overlap_gradients_match_finite_differences(name, per_sample):
    loss = L.get(name)
    p, g = _masks(4)
    params = dict(per_sample=per_sample, smooth=0.5)
    if name != "dice" and name != "iou":
        params.update(alpha=0.3, beta=0.9)
    weight = np.array([0.5, 2.0, 1.0]) if per_sample else None
    grad = loss.grad(p, g, reduction="sum", sample_weight=weight, **params)
    fd = central_difference(lambda x: loss(x, g, reduction="sum", sample_weight=weight, **params), p)
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9)


def test_empty_masks_and_perfect_focal_tversky_give_finite_zero_gradients():
    z = np.zeros((2, 4))
    for name in ("dice", "iou", "tversky", "focal_tversky"):
        value, grad = L.get(name).value_and_grad(z, z, smooth=0.0)
        assert value == 0.0
        np.testing.assert_array_equal(grad, 0.0)
    g = np.array([[1.0, 0.0, 1.0, 1.0]])
    value, grad = L.focal_tversky.value_and_grad(g, g, gamma=0.5)
    assert value == 0.0 and np.all(np.isfinite(grad))


def test_overlap_errors_name_the_argument():
    with pytest.raises(ValueError, match="dice: y_pred must hold probabilities"):
        L.dice(P + 0.5, G)
    with pytest.raises(ValueError, match="dice: y_true must hold probabilities"):
        L.dice(P, G * 2)
    with pytest.raises(ValueError, match="shape"):
        L.iou(P, G[:, :3])
    with pytest.raises(ValueError, match="per_sample=False"):
        L.dice(P[0], G[0])
    assert L.dice(P[0], G[0], per_sample=False) == pytest.approx(L.dice(P, G))
    with pytest.raises(ValueError, match="smooth must be >= 0"):
        L.dice(P, G, smooth=-1.0)
    with pytest.raises(ValueError, match="alpha \\+ beta"):
        L.tversky(P, G, alpha=0.0, beta=0.0, smooth=0.0)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        L.focal_tversky(P, G, gamma=0.0)
    with pytest.raises(TypeError, match="per_sample must be True or False"):
        L.dice(P, G, per_sample="yes")
    with pytest.raises(ValueError, match="empty"):
        L.dice(np.zeros((0, 3)), np.zeros((0, 3)))
    with ll.config(validate=False):
        assert np.isfinite(L.dice(P + 0.5, G))


# --------------------------------------------------------------------------- SSIM


def _images(seed=0, shape=(2, 1, 16, 16)):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=shape)
    return x, np.clip(x + rng.normal(scale=0.15, size=shape), 0, 1)


def test_ssim_of_an_image_with_itself_is_one():
    x, _ = _images()
    np.testing.assert_array_equal(L.ssim_loss(x, x, reduction="none"), [0.0, 0.0])
    value, grad = L.ssim_loss.value_and_grad(x, x)
    assert value == 0.0
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)


def test_ssim_of_constant_images_is_the_luminance_term():
    # zero variances: SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1), C1 = (0.01 * 1)^2
    x = np.full((1, 3, 12, 12), 0.2)
    y = np.full((1, 3, 12, 12), 0.6)
    c1 = 1e-4
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)  # 0.2401 / 0.4001
    assert L.ssim_loss(x, y) == pytest.approx(1 - expected, rel=1e-12)
    # data_range = 255 on 0..255 images: C1 = (0.01 * 255)^2
    c1 = (0.01 * 255) ** 2
    expected = (2 * 51 * 153 + c1) / (51**2 + 153**2 + c1)
    assert L.ssim_loss(x * 255, y * 255, data_range=255) == pytest.approx(1 - expected, rel=1e-12)


def test_ssim_with_a_one_pixel_window_is_the_mean_luminance_map():
    # window 1: local means are the pixels, local variances 0, so S = (2xy + C1) / (x^2 + y^2 + C1)
    x, y = _images(1, shape=(2, 2, 4, 5))
    c1 = (0.01 * 2.0) ** 2
    expected = 1 - ((2 * x * y + c1) / (x**2 + y**2 + c1)).reshape(2, -1).mean(1)
    np.testing.assert_allclose(
        L.ssim_loss(x, y, window_size=1, data_range=2.0, reduction="none"), expected, rtol=1e-13
    )


def test_ssim_is_symmetric_scale_consistent_and_bounded():
    x, y = _images(2)
    a = L.ssim_loss(x, y, reduction="none")
    np.testing.assert_allclose(a, L.ssim_loss(y, x, reduction="none"), rtol=1e-13)
    np.testing.assert_allclose(a, L.ssim_loss(4 * x, 4 * y, data_range=4.0, reduction="none"), rtol=1e-12)
    assert np.all((a > 0) & (a <= 2))
    assert np.all(L.ssim_loss(x, 1 - x, reduction="none") > a)  # an inverted image is far less similar


def test_ssim_gradients_match_finite_differences_for_both_images():
    x, y = _images(3, shape=(2, 2, 10, 11))
    weight = np.array([0.7, 1.6])
    kw = dict(reduction="sum", sample_weight=weight, window_size=7, sigma=1.2)
    gx = L.ssim_loss.grad(x, y, **kw)
    np.testing.assert_allclose(
        gx, central_difference(lambda a: L.ssim_loss(a, y, **kw), x), rtol=1e-6, atol=1e-10
    )
    # y_true's gradient: SSIM is symmetric, so it is grad with the arguments swapped
    gy = L.ssim_loss.grad(y, x, **kw)
    np.testing.assert_allclose(
        gy, central_difference(lambda b: L.ssim_loss(x, b, **kw), y), rtol=1e-6, atol=1e-10
    )


def test_ssim_default_window_directional_derivatives():
    # the 11x11 window on 2x1x16x16 images: random-direction derivatives (4th-order differences)
    x, y = _images(5)
    g = L.ssim_loss.grad(x, y)
    rng = np.random.default_rng(0)
    h = 1e-4
    for _ in range(3):
        d = rng.normal(size=x.shape)
        f = [L.ssim_loss(x + t * d, y) for t in (2 * h, h, -h, -2 * h)]
        fd = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)
        assert np.sum(g * d) == pytest.approx(fd, rel=1e-7, abs=1e-12)


def test_ssim_torch_tensors_and_float32():
    x, y = _images(4)
    tx = torch.tensor(x, requires_grad=True)
    value = L.ssim_loss(tx, torch.tensor(y))
    value.backward()
    np.testing.assert_allclose(tx.grad.numpy(), L.ssim_loss.grad(x, y), rtol=1e-9, atol=1e-14)
    v32, g32 = L.ssim_loss.value_and_grad(x.astype(np.float32), y.astype(np.float32))
    assert v32.dtype == np.float32 and g32.dtype == np.float32


def test_ssim_errors():
    x, y = _images()
    with pytest.raises(ValueError, match="shape \\(batch, channel, H, W\\)"):
        L.ssim_loss(x[0], y[0])
    with pytest.raises(ValueError, match="at least window_size=11"):
        L.ssim_loss(x[..., :8, :], y[..., :8, :])
    with pytest.raises(ValueError, match="window_size must be odd"):
        L.ssim_loss(x, y, window_size=4)
    with pytest.raises(ValueError, match="data_range must be > 0"):
        L.ssim_loss(x, y, data_range=0.0)
    bad = x.copy()
    bad[0, 0, 3, 3] = np.inf
    with pytest.raises(ValueError, match="ssim_loss: y_pred contains infinite"):
        L.ssim_loss(bad, y)


# --------------------------------------------------------------------------- perceptual


def test_perceptual_value_by_hand():
    phi = L.RandomTanhFeatures(4, widths=(3, 2), seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    fx, fy = phi(x), phi(y)
    per_sample = 0.5 * ((fx[0] - fy[0]) ** 2).mean(1) + 3.0 * ((fx[1] - fy[1]) ** 2).mean(1)
    np.testing.assert_allclose(L.perceptual(x, y, phi, [0.5, 3.0], reduction="none"), per_sample, rtol=1e-14)
    assert L.perceptual(x, y, phi, [0.5, 3.0]) == pytest.approx(per_sample.mean(), rel=1e-14)
    assert L.perceptual(x, x, phi) == 0.0


def test_random_tanh_features_vjp_matches_finite_differences():
    phi = L.RandomTanhFeatures(6, widths=(4, 3), seed=2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 2, 3))
    cots = [rng.normal(size=(2, 4)), rng.normal(size=(2, 3))]
    vjp = phi.vjp(x, cots)
    fd = central_difference(lambda a: sum(np.sum(f * c) for f, c in zip(phi(a), cots)), x)
    np.testing.assert_allclose(vjp, fd, rtol=1e-7, atol=1e-10)


def test_perceptual_gradient_matches_finite_differences():
    phi = L.RandomTanhFeatures(12, widths=(6, 5, 3), seed=3)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(3, 3, 4)), rng.normal(size=(3, 3, 4))
    weight = np.array([1.0, 0.2, 3.0])
    kw = dict(layer_weights=(1.0, 0.5, 2.0), reduction="mean", sample_weight=weight)
    grad = L.perceptual.grad(x, y, phi, **kw)
    fd = central_difference(lambda a: L.perceptual(a, y, phi, **kw), x)
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-10)


def test_perceptual_with_a_forward_vjp_pair_and_a_torch_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).double()

    def forward(x):
        h1 = net[1](net[0](torch.as_tensor(x)))
        return [h1.detach().numpy(), net[2](h1).detach().numpy()]

    def vjp(x, cotangents):
        xt = torch.tensor(x, requires_grad=True)
        h1 = net[1](net[0](xt))
        (gx,) = torch.autograd.grad([h1, net[2](h1)], xt, [torch.as_tensor(c) for c in cotangents])
        return gx.numpy()

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    value, grad = L.perceptual.value_and_grad(x, y, (forward, vjp), layer_weights=[2.0, 1.0])
    fd = central_difference(
        lambda a: L.perceptual(a, y, features=(forward, vjp), layer_weights=[2.0, 1.0]), x
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-10)
    # the same network on tensors: torch autograd through the forward agrees
    xt = torch.tensor(x, requires_grad=True)

    class Direct:
        def __call__(self, z):
            h1 = net[1](net[0](z))
            return [h1, net[2](h1)]

        def vjp(self, z, cotangents):  # unused on the autograd path
            raise AssertionError

    out = L.perceptual(xt, torch.tensor(y), Direct(), [2.0, 1.0])
    out.backward()
    assert out.item() == pytest.approx(float(value), rel=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=1e-10)


def test_perceptual_errors():
    phi = L.RandomTanhFeatures(4, widths=(3, 2))
    x = np.zeros((2, 4))
    with pytest.raises(TypeError, match="perceptual: features must be a feature extractor"):
        L.perceptual(x, x)
    with pytest.raises(TypeError, match="features must be a feature extractor"):
        L.perceptual(x, x, lambda z: [z])
    with pytest.raises(ValueError, match="one weight per feature layer \\(2\\), got 3"):
        L.perceptual(x, x, phi, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="layer_weights\\[1\\] must be >= 0"):
        L.perceptual(x, x, phi, [1.0, -1.0])
    with pytest.raises(TypeError, match="multiple values for argument 'features'"):
        L.perceptual(x, x, phi, features=phi)
    with pytest.raises(ValueError, match="RandomTanhFeatures: x must have 4 features"):
        L.perceptual(np.zeros((2, 5)), np.zeros((2, 5)), phi)
    with pytest.raises(ValueError, match="perceptual: y_true contains NaN"):
        L.perceptual(x, x + np.nan, phi)
