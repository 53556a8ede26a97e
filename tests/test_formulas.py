"""Fifty-odd everyday formulas (physics, statistics, losses), typed as a person types them.

Each compiles and its gradient agrees with SymPy's and with finite differences,
at a point of its domain and at random points where it is defined.
"""

import pytest

import symgrad

FORMULAS = [
    # physics
    ("kinetic energy", "0.5*m*v**2", {"m": 2.0, "v": 3.0}),
    ("potential energy", "m*g*h", {"m": 2.0, "g": 9.81, "h": 1.5}),
    ("pendulum period", "2*pi*sqrt(L/g)", {"L": 1.2, "g": 9.81}),
    ("pendulum energy", "0.5*m*L**2*w**2 + m*g*L*(1 - cos(theta))",
     {"m": 1.0, "L": 2.0, "w": 0.5, "g": 9.81, "theta": 0.3}),
    ("projectile range", "v^2*sin(2*theta)/g", {"v": 10.0, "theta": 0.7, "g": 9.81}),
    ("projectile height", "v*sin(theta)*t - g*t**2/2", {"v": 10.0, "theta": 0.7, "t": 0.4,
                                                         "g": 9.81}),
    ("gravitation", "G*m1*m2/r**2", {"G": 6.7, "m1": 2.0, "m2": 3.0, "r": 1.5}),
    ("Coulomb potential", "k*q1*q2/r", {"k": 9.0, "q1": 1.0, "q2": -2.0, "r": 0.5}),
    ("spring energy", "0.5*k*x**2", {"k": 3.0, "x": 0.2}),
    ("damped oscillator", "A*exp(-b*t)*cos(w*t + phi)",
     {"A": 1.0, "b": 0.3, "t": 2.0, "w": 1.5, "phi": 0.1}),
    ("relativistic energy", "m*c**2/sqrt(1 - v**2/c**2)", {"m": 1.0, "c": 3.0, "v": 1.0}),
    ("ideal gas", "n*R*T/V", {"n": 2.0, "R": 8.3, "T": 300.0, "V": 0.5}),
    ("Planck's law", "2*h*nu**3/(c**2*expm1(h*nu/(k*T)))",
     {"h": 1.0, "nu": 2.0, "c": 3.0, "k": 1.0, "T": 1.5}),
    ("distance", "sqrt((x1 - x2)**2 + (y1 - y2)**2 + (z1 - z2)**2)",
     {"x1": 1.0, "x2": 0.5, "y1": 2.0, "y2": -1.0, "z1": 0.0, "z2": 0.3}),
    ("hypotenuse", "hypot(a, b)", {"a": 3.0, "b": 4.0}),
    ("polar angle", "atan2(y, x)", {"y": 1.0, "x": 2.0}),
    ("Doppler shift", "f0*(c + vr)/(c + vs)", {"f0": 440.0, "c": 343.0, "vr": 5.0, "vs": -3.0}),
    ("thin lens", "1/(1/f - 1/u)", {"f": 0.5, "u": 2.0}),
    ("rapidity", "atanh(v/c)", {"v": 1.0, "c": 3.0}),
    ("catenary", "a*cosh(x/a)", {"a": 2.0, "x": 1.0}),
    ("chord to arc", "2*r*asin(c/(2*r))", {"r": 2.0, "c": 1.5}),
    ("angle from cosine", "acos(d/(a*b))", {"d": 1.0, "a": 2.0, "b": 1.5}),
    # statistics
    ("Gaussian density", "exp(-(x - mu)**2/(2*sigma**2))/(sigma*sqrt(2*pi))",
     {"x": 0.3, "mu": 0.1, "sigma": 1.2}),
    ("Gaussian log-likelihood", "-log(sigma) - 0.5*log(2*pi) - (x - mu)**2/(2*sigma**2)",
     {"x": 0.3, "mu": 0.1, "sigma": 1.2}),
    ("Gaussian CDF", "0.5*(1 + erf((x - mu)/(sigma*sqrt(2))))",
     {"x": 0.3, "mu": 0.1, "sigma": 1.2}),
    ("normal tail", "0.5*erfc(x/sqrt(2))", {"x": 1.3}),
    ("log-normal log density", "-log(x*sigma*sqrt(2*pi)) - (ln(x) - mu)**2/(2*sigma**2)",
     {"x": 1.5, "mu": 0.2, "sigma": 0.7}),
    ("Poisson log-likelihood", "k*log(lam) - lam", {"k": 3.0, "lam": 2.5}),
    ("exponential log-likelihood", "log(lam) - lam*x", {"lam": 2.0, "x": 0.4}),
    ("Weibull log density", "log(k/l) + (k - 1)*log(x/l) - (x/l)**k",
     {"k": 1.5, "l": 2.0, "x": 1.2}),
    ("Bernoulli entropy", "-(p*log(p) + (1 - p)*log(1 - p))", {"p": 0.3}),
    ("entropy in bits", "-(p*log2(p) + (1 - p)*log(1 - p, 2))", {"p": 0.3}),
    ("Bernoulli KL divergence", "p*log(p/q) + (1 - p)*log((1 - p)/(1 - q))",
     {"p": 0.3, "q": 0.6}),
    ("geometric mean", "cbrt(x*y*z)", {"x": 2.0, "y": 3.0, "z": 0.5}),
    ("decibels", "10*log10(P/P0)", {"P": 2.0, "P0": 0.1}),
    # losses and activations
    ("Bernoulli log-likelihood", "y*log(p) + (1 - y)*log(1 - p)", {"y": 1.0, "p": 0.7}),
    ("logistic loss", "log(1 + exp(-y*(w*x + b)))", {"y": 1.0, "w": 0.5, "x": 2.0, "b": -0.1}),
    ("logistic loss, stable", "softplus(-y*(w*x + b))", {"y": 1.0, "w": 0.5, "x": 2.0,
                                                          "b": -0.1}),
    ("binary cross-entropy of a logit", "-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))",
     {"y": 1.0, "z": 0.4}),
    ("hinge loss", "max(0, 1 - y*(w*x + b))", {"y": 1.0, "w": 0.2, "x": 1.5, "b": 0.1}),
    ("squared error", "(w*x + b - y)**2", {"w": 0.5, "x": 2.0, "b": 0.1, "y": 0.7}),
    ("absolute error", "abs(w*x + b - y)", {"w": 0.5, "x": 2.0, "b": 0.1, "y": 0.7}),
    ("pseudo-Huber loss", "d**2*(sqrt(1 + ((y - f)/d)**2) - 1)", {"d": 1.0, "y": 0.5, "f": 2.0}),
    ("log-cosh loss", "log(cosh(p - y))", {"p": 0.8, "y": 0.3}),
    ("two-class softmax cross-entropy", "log(exp(a) + exp(b)) - a", {"a": 0.5, "b": 1.5}),
    ("log-add-exp", "max(a, b) + log1p(exp(-abs(a - b)))", {"a": 0.5, "b": 1.5}),
    ("GELU", "0.5*x*(1 + erf(x/sqrt(2)))", {"x": 0.7}),
    ("GELU, tanh form", "0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))", {"x": 0.7}),
    ("swish", "x*sigmoid(beta*x)", {"x": 0.7, "beta": 1.5}),
    ("mish", "x*tanh(softplus(x))", {"x": 0.7}),
    ("ELU", "max(x, 0) + min(0, expm1(x))", {"x": -0.7}),
    ("asinh scaling", "arcsinh(x/a)", {"x": 3.0, "a": 2.0}),
    # money
    ("compound interest", "P*(1 + r/n)**(n*t)", {"P": 100.0, "r": 0.05, "n": 12.0, "t": 3.0}),
    ("continuous compounding", "P*e^(r*t)", {"P": 100.0, "r": 0.05, "t": 3.0}),
    ("Black-Scholes d1", "(log(S/K) + (r + s**2/2)*T)/(s*sqrt(T))",
     {"S": 100.0, "K": 95.0, "r": 0.01, "s": 0.2, "T": 0.5}),
    ("Cobb-Douglas", "A*K**a*L**(1 - a)", {"A": 1.5, "K": 4.0, "a": 0.3, "L": 9.0}),
    ("power of a ratio", "pow(x/y, n)", {"x": 3.0, "y": 2.0, "n": 1.7}),
]


def test_there_are_at_least_fifty_formulas():
    assert len({name for name, _, _ in FORMULAS}) == len(FORMULAS) >= 50


@pytest.mark.parametrize("text, point", [(text, point) for _, text, point in FORMULAS],
                         ids=[name for name, _, _ in FORMULAS])
def test_formula_compiles_and_agrees_with_sympy_and_finite_differences(text, point):
    f = symgrad.compile(text)
    assert set(f.variables) == set(point)  # pi and e are numbers, not inputs
    report = symgrad.check(f, points=2, at=point, symbolic=False)
    assert report.ok, str(report)
