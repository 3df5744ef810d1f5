"""Test functions: analytic derivatives vs finite differences, vectorization, listed critical points."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import losslab as ll
from loss_cases import central_difference

F = ll.landscape.functions

# Every registered function with its defaults, plus the n-dimensional and rotated variants.
VARIANTS = [pytest.param(name, {}, id=name) for name in F.names()] + [
    pytest.param("quadratic", {"eigenvalues": [1.0, 4.0, 25.0]}, id="quadratic(eigenvalues=[1, 4, 25])"),
    pytest.param(
        "quadratic",
        {"condition": 100.0, "angle": 0.6, "center": [1.0, -2.0]},
        id="quadratic(condition=100, angle=0.6)",
    ),
    pytest.param("rosenbrock", {"dim": 5}, id="rosenbrock(dim=5)"),
    pytest.param("rosenbrock", {"a": 2.0, "b": 10.0}, id="rosenbrock(a=2, b=10)"),
    pytest.param("rastrigin", {"dim": 3}, id="rastrigin(dim=3)"),
    pytest.param("plateau", {"width": 1.5, "dim": 3}, id="plateau(width=1.5, dim=3)"),
    pytest.param("quadratic_bowl", {"b": 100.0}, id="quadratic_bowl(b=100)"),
]


def _sample_points(f, rng, k=3):
    lo = np.array([lim[0] for lim in f.limits])
    hi = np.array([lim[1] for lim in f.limits])
    return rng.uniform(0.6 * lo + 0.4 * (lo + hi) / 2, 0.6 * hi + 0.4 * (lo + hi) / 2, size=(k, f.dim))


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_gradient_and_hessian_match_central_differences(name, params):
    f = F.get(name, **params)
    rng = np.random.default_rng(0)
    for w in _sample_points(f, rng):
        scale = max(1.0, float(np.abs(f.grad(w)).max()))
        np.testing.assert_allclose(
            f.grad(w), central_difference(f.value, w, h=1e-4), rtol=1e-7, atol=1e-7 * scale
        )
        numeric = np.stack([central_difference(lambda p, i=i: f.grad(p)[i], w, h=1e-4) for i in range(f.dim)])
        hscale = max(1.0, float(np.abs(f.hessian(w)).max()))
        np.testing.assert_allclose(f.hessian(w), numeric, rtol=1e-6, atol=1e-7 * hscale)
        np.testing.assert_allclose(f.hessian(w), f.hessian(w).T, rtol=0, atol=0)
        v = rng.normal(size=f.dim)
        np.testing.assert_allclose(f.hvp(w, v), f.hessian(w) @ v, rtol=1e-14)


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_everything_is_vectorized_over_grids(name, params):
    f = F.get(name, **params)
    pts = _sample_points(f, np.random.default_rng(1), k=12).reshape(3, 4, f.dim)
    assert f.value(pts).shape == (3, 4)
    assert f.grad(pts).shape == (3, 4, f.dim)
    assert f.hessian(pts).shape == (3, 4, f.dim, f.dim)
    for i in range(3):
        for j in range(4):
            assert f.value(pts[i, j]) == pytest.approx(f.value(pts)[i, j], rel=1e-14, abs=1e-14)
            np.testing.assert_allclose(f.grad(pts)[i, j], f.grad(pts[i, j]), rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(f.hessian(pts)[i, j], f.hessian(pts[i, j]), rtol=1e-14, atol=1e-13)
    assert np.ndim(f.value(pts[0, 0])) == 0
    assert len(f.limits) == f.dim and f.start.shape == (f.dim,)


@pytest.mark.parametrize(("name", "params"), VARIANTS)
def test_listed_critical_points_have_zero_gradient_and_their_kind(name, params):
    f = F.get(name, **params)
    assert f.critical_points, "every function lists its known critical points"
    for cp in f.critical_points:
        assert cp.kind in ("minimum", "maximum", "saddle", "degenerate")
        H = f.hessian(cp.point)
        eig = np.linalg.eigvalsh(H)
        scale = max(1.0, float(np.abs(eig).max()))
        assert np.linalg.norm(f.grad(cp.point)) <= 1e-10 * scale
        assert cp.value == f.value(cp.point)
        zero = np.abs(eig) <= 1e-9 * scale
        expected = (
            "degenerate"
            if zero.any()
            else "minimum"
            if (eig > 0).all()
            else "maximum"
            if (eig < 0).all()
            else "saddle"
        )
        assert cp.kind == expected and cp.index == int((eig < -1e-9 * scale).sum())
    # minima are the global minimizers, all listed among the critical points
    for m in f.minima:
        assert f.value(m) == pytest.approx(f.minimum_value, abs=1e-12)
        assert any(np.array_equal(m, cp.point) for cp in f.critical_points if cp.kind == "minimum")
    mins = [cp.value for cp in f.critical_points if cp.kind == "minimum"]
    if mins:
        assert f.minimum_value == pytest.approx(min(mins), abs=1e-12)


def test_himmelblau_has_four_minima_a_maximum_and_four_saddles():
    f = F.get("himmelblau")
    kinds = [cp.kind for cp in f.critical_points]
    assert kinds.count("minimum") == 4 and kinds.count("maximum") == 1 and kinds.count("saddle") == 4
    assert len(f.minima) == 4 and f.minimum_value == 0.0
    peak = next(cp for cp in f.critical_points if cp.kind == "maximum")
    np.testing.assert_allclose(peak.point, [-0.270845, -0.923039], atol=1e-6)
    assert peak.value == pytest.approx(181.617, abs=1e-3)
    assert all(cp.index == 1 for cp in f.critical_points if cp.kind == "saddle")
    np.testing.assert_array_equal(f.minima[0], [3.0, 2.0])


def test_saddles_beale_and_camel():
    [s] = F.get("saddle").critical_points
    assert (s.kind, s.index) == ("saddle", 1) and F.get("saddle").minima == ()
    [m] = F.get("monkey_saddle").critical_points
    assert m.kind == "degenerate"
    np.testing.assert_array_equal(F.get("monkey_saddle").hessian([0.0, 0.0]), np.zeros((2, 2)))
    beale = F.get("beale")
    np.testing.assert_allclose(beale.hessian([0.0, 1.0]), [[0.0, 27.75], [27.75, 0.0]], rtol=1e-15)
    assert beale.value([0.0, 1.0]) == 14.203125 and beale.value([3.0, 0.5]) == 0.0
    camel = F.get("six_hump_camel")
    kinds = [cp.kind for cp in camel.critical_points]
    assert (kinds.count("minimum"), kinds.count("maximum"), kinds.count("saddle")) == (6, 2, 7)
    assert len(camel.minima) == 2 and camel.minimum_value == pytest.approx(-1.031628453489877, rel=1e-14)


def test_anatomy_has_exactly_its_four_critical_points_with_exact_values():
    f = F.get("anatomy")
    # f'(t) = t^5 + 5/2 t^4 - 9/4 t^3 - 45/8 t^2 = t^2 (t + 5/2)(t + 3/2)(t - 3/2)
    coefficients = [1, 2.5, -2.25, -5.625, 0, 0]
    roots = np.sort(np.roots(coefficients).real)
    np.testing.assert_allclose(roots, [-2.5, -1.5, 0, 0, 1.5], atol=1e-6)  # no other critical point
    t = np.linspace(-3, 3, 601)[:, None]
    np.testing.assert_allclose(f.grad(t)[:, 0], np.polyval(coefficients, t[:, 0]), rtol=1e-12, atol=1e-12)

    def exact(x):
        x = Fraction(x)
        return x**6 / 6 + x**5 / 2 - Fraction(9, 16) * x**4 - Fraction(15, 8) * x**3

    listed = [(float(cp.point[0]), cp.kind, cp.value) for cp in f.critical_points]
    assert [(p, k) for p, k, _ in listed] == [
        (-2.5, "minimum"),
        (-1.5, "maximum"),
        (0.0, "degenerate"),
        (1.5, "minimum"),
    ]
    assert [exact(p) for p, _, _ in listed] == [
        Fraction(-625, 768),
        Fraction(405, 256),
        0,
        Fraction(-891, 256),
    ]
    for p, _, v in listed:
        assert v == pytest.approx(float(exact(p)), rel=1e-14, abs=1e-15)
    # the inflection is a 1-D saddle: f'' = 0, f''' = -45/4 != 0, f decreasing on both sides
    assert f.hessian([0.0])[0, 0] == 0.0 and f.value([-0.1]) > 0 > f.value([0.1])
    assert f.minimum_value == -891 / 256 and f.dim == 1
    # the local maximum stands out above the shelf, the shelf above the local minimum
    assert f.value([-1.5]) - f.value([0.0]) > 1.5 and f.value([0.0]) - f.value([-2.5]) > 0.8


def test_quadratic_conditioning_and_rotation():
    f = F.get("quadratic", condition=100.0, angle=np.pi / 6)
    H = f.hessian([0.3, 0.1])
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [1.0, 100.0], rtol=1e-13)
    u = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    np.testing.assert_allclose(H @ u, u, rtol=1e-13)
    g = F.quadratic(eigenvalues=[2.0, 3.0, 5.0], rotation=np.eye(3)[[2, 0, 1]])
    assert g.dim == 3 and g.value([1.0, 1.0, 1.0]) == 5.0
    assert F.quadratic(condition=1000.0, dim=4).params["eigenvalues"].tolist() == pytest.approx(
        [1, 10, 100, 1000]
    )


def test_bad_inputs_name_the_argument():
    with pytest.raises(
        ValueError, match="himmelblau: w must have its 2 coordinates on the last axis, got shape"
    ):
        F.get("himmelblau").value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="anatomy: w must have its 1 coordinate on the last axis"):
        F.get("anatomy").value(1.0)
    with pytest.raises(ValueError, match="quadratic: eigenvalues must be finite and > 0"):
        F.quadratic(eigenvalues=[1.0, -1.0])
    with pytest.raises(ValueError, match="quadratic: rotation must be an orthogonal 2x2 matrix"):
        F.quadratic(rotation=[[1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(TypeError, match="quadratic: give eigenvalues or condition, not both"):
        F.quadratic(eigenvalues=[1.0, 2.0], condition=3.0)
    with pytest.raises(ValueError, match="rosenbrock: dim must be >= 2"):
        F.rosenbrock(dim=1)
    with pytest.raises(ValueError, match="unknown test function 'camel'; valid names: anatomy, beale"):
        F.get("camel")
    with pytest.raises(ValueError, match="already registered"):
        F.register("booth", F.booth)
