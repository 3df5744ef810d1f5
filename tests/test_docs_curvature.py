"""docs/curvature.md: its examples run (doctest) and the constants it quotes are the code's."""

from __future__ import annotations

import doctest
import pathlib

import numpy as np

from losslab.landscape import slices
from losslab.models import objective

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "curvature.md"


def test_examples_run():
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 15
    assert result.failed == 0


def test_quoted_constants_match_the_code():
    text = DOC.read_text(encoding="utf-8")
    assert objective.DEFAULT_MAX_BYTES == 8 << 20 and slices.DEFAULT_MAX_BYTES == 64 << 20
    assert "at most `max_bytes` of activations per pass\n(default 8 MiB" in text
    assert "at most `max_bytes` of stacked parameters (default 64 MiB)" in text
    assert slices.DEFAULT_MAX_POINTS == 1_000_000 and "(default 1,000,000)" in text
    import inspect

    from losslab.landscape import hessian, spectrum

    assert inspect.signature(hessian.hessian_matrix).parameters["max_params"].default == 4096
    assert "(default 4096)" in text
    assert "max(2 * k + 1, 20)" in inspect.getsource(hessian.hessian_eigs)
    assert "below `max(2k + 1, 20)` parameters" in text
    assert "(hi - lo) / 100" in inspect.getsource(spectrum.spectral_density)
    assert "`(λ_max − λ_min)/100`" in text
    assert f"{np.finfo(np.float64).eps ** (2 / 3):.1e}" == "3.7e-11"
