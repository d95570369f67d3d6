"""The 1.x Box-Cox feature: the lambda MDM 1.x got from ``scipy.stats.boxcox``, and the transform.

MDM 1.x called ``scipy.stats.boxcox`` on the non-null values of a column (in table order,
one chunk at a time), which maximises the Box-Cox log-likelihood with Brent's method
(bracket search from (-2, 2), relative tolerance 1.48e-8) and then caps lambda so that
no transformed value exceeds ``float max / 1e4``. Near the optimum the likelihood is flat
to rounding, so the lambda found depends on the exact sequence of floating-point
operations: :func:`boxcox_lambda` repeats that sequence (the likelihood computed in log
space, the bracket and Brent steps, the cap through Lambert W) with numpy alone, so the
same values in the same order give 1.x's lambda to the last bits. Values in another
order (a sample) give a lambda equal to about 1e-8.
"""

from __future__ import annotations

import math

import numpy as np

#: The largest transformed value 1.x allowed (scipy's cap: float max / 1e4).
Y_MAX = float(np.finfo(np.float64).max) / 10_000
GOLD = 1.618034
CGOLD = 0.3819660
TOL, MIN_TOL, MAX_ITER = 1.48e-8, 1.0e-11, 500


def boxcox_lambda(values: np.ndarray) -> float:
    """The lambda 1.x computed for ``values`` (its finite, positive ones, in the given
    order); 1.0 when fewer than two distinct such values remain."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x) & (x > 0)]
    if len(x) < 2 or np.all(x == x[0]):
        return 1.0
    logs = np.log(x)
    total_log = np.sum(logs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lam = _brent(lambda value: -_log_likelihood(value, logs, total_log))
        return float(_capped(x, lam))


def boxcox(values: np.ndarray, lam: float) -> np.ndarray:
    """Box-Cox transform with ``lam``; non-positive and missing values give NaN."""
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    logs = np.log(values[ok])
    with np.errstate(over="ignore"):
        if abs(lam) < 1e-19:
            out[ok] = logs
        else:
            scaled = lam * logs
            big = scaled >= 709.78  # expm1 would overflow: the same value, computed apart
            out[ok] = np.where(big, np.exp(scaled - math.log(abs(lam))) - 1 / lam, np.expm1(scaled) / lam)
    return out


def _log_likelihood(lam: float, logs: np.ndarray, total_log: float) -> float:
    """Box-Cox log-likelihood; the variance of ``x**lam / lam`` taken in log space."""
    n = logs.shape[0]
    if lam == 0:
        log_var = np.log(np.var(logs))
    else:
        log_var = _log_variance(lam * logs) - 2 * math.log(abs(lam))
    return (lam - 1) * total_log - n / 2 * log_var


def _log_variance(logx: np.ndarray) -> float:
    """log(var(x)) from log(x): log|x - mean| as complex logs (pi for negative terms)."""
    n = logx.shape[0]
    log_mean = _log_sum_exp(logx) - math.log(n)
    pairs = np.stack((logx.astype(np.complex128), np.full(logx.shape, log_mean + np.pi * 1j)))
    log_dev = _log_sum_exp(pairs)
    return float(np.real(_log_sum_exp(2 * log_dev))) - math.log(n)


def _log_sum_exp(a: np.ndarray):
    """log(sum(exp(a))) along the first axis: the element with the largest real part
    (the last one among equals for complex input; all of them for real input) is kept out
    of the sum, which is added as ``log1p``; imaginary parts wrapped to (-pi, pi]."""
    if np.iscomplexobj(a):
        real = np.real(a)
        top = real == np.max(real, axis=0, keepdims=True)
        index = np.where(top, np.arange(a.size).reshape(a.shape), -1)
        top = index == np.max(index, axis=0, keepdims=True)
        peak = np.sum(np.where(top, a, 0.0), axis=0, keepdims=True, dtype=a.dtype)
    else:
        peak = np.max(a, axis=0, keepdims=True)
        top = a == peak
    count = np.sum(top.astype(a.dtype), axis=0, keepdims=True, dtype=a.dtype)
    rest = np.exp(np.where(top, -np.inf, a) - peak)
    total = np.sum(rest, axis=0, keepdims=True, dtype=rest.dtype)
    total = np.where(total == 0, total, total / count)
    out = np.log1p(total) + np.log(count) + peak
    if np.iscomplexobj(out):
        imag = np.imag(out)
        wrapped = -((-imag + np.pi) % (2 * np.pi) - np.pi)
        out = np.real(out) + np.where(np.abs(imag) < np.pi, imag, wrapped) * 1j
    return np.squeeze(out, axis=0)[()]


def _bracket(f, xa: float, xb: float, grow_limit: float = 110.0):
    """Three points a < b < c (or c < b < a) with f(b) below f(a) and f(c), searched
    downhill from ``xa``, ``xb`` by golden steps and parabolic extrapolation."""
    xa, xb = np.asarray([xa, xb])
    fa, fb = f(xa), f(xb)
    if fa < fb:
        xa, xb, fa, fb = xb, xa, fb, fa
    xc = xb + GOLD * (xb - xa)
    fc = f(xc)
    for _ in range(1000):
        if not fc < fb:
            break
        t1, t2 = (xb - xa) * (fb - fc), (xb - xc) * (fb - fa)
        val = t2 - t1
        w = xb - ((xb - xc) * t2 - (xb - xa) * t1) / (2.0e-21 if np.abs(val) < 1e-21 else 2.0 * val)
        wlim = xb + grow_limit * (xc - xb)
        if (w - xc) * (xb - w) > 0.0:
            fw = f(w)
            if fw < fc:
                return xb, w, xc, fb, fw, fc
            if fw > fb:
                return xa, xb, w, fa, fb, fw
            w = xc + GOLD * (xc - xb)
            fw = f(w)
        elif (w - wlim) * (wlim - xc) >= 0.0:
            w = wlim
            fw = f(w)
        elif (w - wlim) * (xc - w) > 0.0:
            fw = f(w)
            if fw < fc:
                xb, xc, w = xc, w, w + GOLD * (w - xc)
                fb, fc, fw = fc, fw, f(w)
        else:
            w = xc + GOLD * (xc - xb)
            fw = f(w)
        xa, xb, xc, fa, fb, fc = xb, xc, w, fb, fc, fw
    else:
        raise ValueError("no Box-Cox lambda: the likelihood has no maximum to bracket")
    return xa, xb, xc, fa, fb, fc


def _brent(f) -> float:
    """The minimum of ``f`` by Brent's method from the bracket of (-2, 2)."""
    xa, xb, xc, _, fb, _ = _bracket(f, -2.0, 2.0)
    x = w = v = xb
    fx = fw = fv = fb
    a, b = (xa, xc) if xa < xc else (xc, xa)
    step = rat = 0.0
    for _ in range(MAX_ITER):
        tol1 = TOL * np.abs(x) + MIN_TOL
        tol2 = 2.0 * tol1
        mid = 0.5 * (a + b)
        if np.abs(x - mid) < tol2 - 0.5 * (b - a):
            break
        if np.abs(step) <= tol1:
            step = a - x if x >= mid else b - x
            rat = CGOLD * step
        else:
            t1, t2 = (x - w) * (fx - fv), (x - v) * (fx - fw)
            p = (x - v) * t2 - (x - w) * t1
            t2 = 2.0 * (t2 - t1)
            if t2 > 0.0:
                p = -p
            t2 = np.abs(t2)
            previous, step = step, rat
            if p > t2 * (a - x) and p < t2 * (b - x) and np.abs(p) < np.abs(0.5 * t2 * previous):
                rat = p * 1.0 / t2
                u = x + rat
                if (u - a) < tol2 or (b - u) < tol2:
                    rat = tol1 if mid - x >= 0 else -tol1
            else:
                step = a - x if x >= mid else b - x
                rat = CGOLD * step
        u = (x + tol1 if rat >= 0 else x - tol1) if np.abs(rat) < tol1 else x + rat
        fu = f(u)
        if fu > fx:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, w, fv, fw = w, u, fw, fu
            elif fu <= fv or v in (x, w):
                v, fv = u, fu
        else:
            if u >= x:
                a = x
            else:
                b = x
            v, w, x, fv, fw, fx = w, x, u, fw, fx, fu
    return x


def _capped(x: np.ndarray, lam: float) -> float:
    """``lam``, or the largest lambda keeping the extreme transformed value within :data:`Y_MAX`."""
    high, low = np.max(x), np.min(x)
    if low >= 1:
        extreme = high
    elif high <= 1:
        extreme = low
    else:
        extreme = high if boxcox(np.array([high]), lam)[0] > abs(boxcox(np.array([low]), lam)[0]) else low
    if not abs(boxcox(np.array([extreme]), lam)[0]) > Y_MAX:
        return lam
    y = Y_MAX * np.sign(extreme - 1)
    z = -(extreme ** (-1 / y)) * np.log(extreme) / y
    return float(-_lambert_w_lower(z) / np.log(extreme) - 1 / y)


def _lambert_w_lower(z: float) -> float:
    """The lower branch W_-1 of Lambert W for -1/e <= z < 0: w <= -1 with w e^w = z
    (Newton steps on w + log(-w) = log(-z))."""
    target = math.log(-z)
    w = target - math.log(-target) if target < -1 else -2.0
    for _ in range(100):
        step = (w + math.log(-w) - target) / (1 + 1 / w)
        w -= step
        if abs(step) <= 1e-16 * abs(w):
            break
    return w
