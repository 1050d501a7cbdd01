#!/usr/bin/env python3
"""The rational approximation of tanh behind StaticRnn's gate activations (src/StaticRnn/Runtime/Simd/GateMath.cs).

tanh(x) ~ x * P(x^2) / Q(x^2) on |x| <= 9 (tanh(9) = 1 - 3e-8 rounds to 1 in float), P of degree 6 and Q of degree 3
in x^2, Q(0) = 1; sigmoid(x) = 1/2 + tanh(x/2)/2 uses the same coefficients scaled by powers of two (exact in float).
The fit minimises the largest relative error of tanh(x)/x (equivalently of tanh) over [0, 9] by Lawson's iteration on
weighted least squares (Loeb's linearisation), on a float64 grid against mpmath's tanh at 30 digits.

Prints the coefficients as C# float literals and the fit's error in float64. The error of the float evaluation
(coefficients rounded to float, Estrin's scheme with FMA) is measured by GateMathTests over all floats.

    /usr/bin/python3 tools/fit_gate_activations.py        # needs python3-numpy and python3-mpmath (Debian)
"""
import mpmath
import numpy as np

mpmath.mp.dps = 30
NUMERATOR_DEGREE, DENOMINATOR_DEGREE, CLAMP = 6, 3, 9.0


def fit(m, n, c, iterations=200, points=6000):
    nodes = np.cos(np.pi * (np.arange(points) + 0.5) / points)
    x = np.sort(np.concatenate([(nodes + 1) / 2 * c, np.linspace(0, c, points)]))
    x[0] = 1e-6
    g = np.array([float(mpmath.tanh(mpmath.mpf(float(v))) / mpmath.mpf(float(v))) for v in x])
    u = x * x / (c * c)   # the fit runs on [0, 1]; the coefficients are rescaled to x^2 at the end
    weights = np.ones_like(u) / len(u)
    q_previous = np.ones_like(u)
    best = None
    for _ in range(iterations):
        # Unknowns p0..pm, q1..qn; residual (P(u) - g Q(u)) / (g Q_previous(u)) ~ relative error.
        a = np.hstack([np.vander(u, m + 1, increasing=True), -(g[:, None] * np.vander(u, n + 1, increasing=True)[:, 1:])])
        scale = np.sqrt(weights) / (g * q_previous)
        solution, *_ = np.linalg.lstsq(a * scale[:, None], g * scale, rcond=None)
        p = solution[:m + 1]
        q = np.concatenate([[1.0], solution[m + 1:]])
        P = np.polyval(p[::-1], u)
        Q = np.polyval(q[::-1], u)
        error = np.abs(P / Q - g) / g
        if best is None or error.max() < best[0]:
            best = (error.max(), p.copy(), q.copy())
        weights = weights * error
        weights /= weights.sum()
        q_previous = Q
    e, p, q = best
    s = c * c
    return e, p / s ** np.arange(m + 1), q / s ** np.arange(n + 1)


def main():
    error, p, q = fit(NUMERATOR_DEGREE, DENOMINATOR_DEGREE, CLAMP)
    print(f"// tanh(x) = x P(x^2) / Q(x^2) on |x| <= {CLAMP}; largest relative error of the fit in float64: {error:.2e}")
    for name, coefficients in (("P", p), ("Q", q)):
        for k, v in enumerate(coefficients):
            print(f"private const float {name}{k} = {v:.17g}f;")


if __name__ == "__main__":
    main()
