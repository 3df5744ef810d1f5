"""Numba kernels of the fused optimizer steps; imported by :mod:`losslab.optim._compiled` only when
Numba is installed. Compiled on first use and cached next to this file (``cache=True``).

No fast-math: every operation is IEEE-rounded in the arrays' dtype, in the order of the NumPy
path, so results are bitwise equal to it. ``error_model="numpy"``: a zero denominator gives
inf/NaN as in NumPy (Python's model would raise ZeroDivisionError), and it lets the loops vectorize.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, error_model="numpy")
def adam_serial(p, g, m, v, vm, p_out, m_out, v_out, vm_out, c1, c2, b2, sc, se, gpc, pc, ams):
    # The operations of transforms._adam_leaf (apply=True), element by element, in the same order;
    # returns the number of non-finite new parameters (x - x is 0 only for finite x). Without
    # AMSGrad vm and vm_out are empty.
    bad = 0
    for i in range(p.size):
        pi = p[i]
        gi = g[i]
        if gpc != 0:  # coupled weight decay: p * wd + g
            gi = pi * gpc + gi
        mi = m[i]
        mn = (gi - mi) * c1 + mi  # PyTorch's lerp
        vn = v[i] * b2 + (gi * gi) * c2
        m_out[i] = mn
        v_out[i] = vn
        src = vn
        if ams:  # np.maximum(v_max, v), NaN propagating
            vmi = vm[i]
            src = vmi if (vmi >= vn or vmi != vmi) else vn
            vm_out[i] = src
        u = (mn * sc) / (np.sqrt(src) + se)
        if pc != 0:  # decoupled weight decay: + p * (-lr wd)
            u = u + pi * pc
        pn = pi + u
        p_out[i] = pn
        # a non-finite gradient or parameter makes the new parameter non-finite (NaN or inf
        # propagate through every term); the caller then finds which input it was
        bad += pn - pn != 0
    return bad


@numba.njit(nogil=True, cache=True, error_model="numpy")
def sgd_serial(p, g, b, p_out, b_out, wd, mu, keep, factor, first, momentum, dampened, nesterov):
    # add_decayed_weights, trace and scale_by_learning_rate's step (the sgd preset), element by
    # element in the order of their NumPy expressions; returns the number of non-finite new
    # parameters. Without momentum b and b_out are empty.
    bad = 0
    for i in range(p.size):
        pi = p[i]
        gi = g[i]
        if wd != 0:  # g + wd * p
            gi = gi + wd * pi
        ui = gi
        if momentum:
            if first:  # the first buffer is the gradient itself
                bi = gi
            elif dampened:
                bi = mu * b[i] + keep * gi
            else:
                bi = mu * b[i] + gi
            b_out[i] = bi
            ui = gi + mu * bi if nesterov else bi
        pn = pi + factor * ui
        p_out[i] = pn
        bad += pn - pn != 0
    return bad


@numba.njit(nogil=True, cache=True, error_model="numpy")
def adagrad_serial(p, g, s, p_out, s_out, wd, decay, eps, factor):
    # add_decayed_weights, scale_by_adagrad and scale_by_learning_rate's step (the adagrad preset).
    bad = 0
    for i in range(p.size):
        pi = p[i]
        gi = g[i]
        if wd != 0:
            gi = gi + wd * pi
        si = s[i] + gi * gi
        s_out[i] = si
        pn = pi + factor * (decay * (gi / (np.sqrt(si) + eps)))
        p_out[i] = pn
        bad += pn - pn != 0
    return bad


@numba.njit(nogil=True, cache=True, error_model="numpy")
def rmsprop_serial(
    p, g, s, mg, b, p_out, s_out, mg_out, b_out, wd, alpha, c, eps, mu, factor, centered, momentum, first
):
    # add_decayed_weights, scale_by_rms, trace and scale_by_learning_rate's step (the rmsprop
    # preset). mg and mg_out are empty unless centered, b and b_out unless momentum.
    bad = 0
    for i in range(p.size):
        pi = p[i]
        gi = g[i]
        if wd != 0:
            gi = gi + wd * pi
        si = alpha * s[i] + c * (gi * gi)  # the EMA of g^2
        s_out[i] = si
        vi = si
        if centered:  # the EMA of g as a lerp, then s - mean^2
            mi = mg[i]
            mi = mi + c * (gi - mi)
            mg_out[i] = mi
            vi = si - mi * mi
        ui = gi / (np.sqrt(vi) + eps)
        if momentum:
            bi = ui if first else mu * b[i] + ui
            b_out[i] = bi
            ui = bi
        pn = pi + factor * ui
        p_out[i] = pn
        bad += pn - pn != 0
    return bad
