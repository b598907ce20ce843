#!/usr/bin/env python3
"""Golden values for the weighted-exponential window (src/knative/buckets.rs).

Recomputes Knative's WeightedFloat64Buckets.WindowAverage independently of
the Rust code, following Go's semantics step by step:

* `1 - weightPrecision` is an untyped Go constant: exact rational arithmetic,
  rounded once to float64 (Fraction below), i.e. the double nearest 1e-4.
* `math.Pow(x, y)` for a non-integer y splits y into an integer part and a
  fraction in [-0.5, 0.5], takes Exp(yf * Log(x)) for the fraction and
  multiplies the integer part in by repeated squaring of Frexp's mantissa,
  with the binary exponent tracked apart and applied by one Ldexp at the end.
  Log and Exp are evaluated with mpmath at 300 bits and rounded once, i.e.
  correctly rounded; Go's portable log.go/exp.go give the same doubles for
  every argument used here (checked by emulating them with their published
  fdlibm coefficients).
* Everything else (multiplier updates, the sum) is plain float64 arithmetic
  in Go's order, which Python floats reproduce.

Each window has `nb` one-second buckets holding v_i = (7*i mod 13) + i/8 for
i = 0..nb-1 (written at second 100 + i); the average is taken 0, 1 and 3
seconds after the last write. Prints Rust array rows of f64 bit patterns.
"""
from fractions import Fraction
import math
import mpmath

mpmath.mp.prec = 300

ONE_MINUS_PRECISION = float(Fraction(1) - Fraction("0.9999"))
MIN_EXPONENT = 0.2


def cr(f):
    return float(f)


def go_pow(x, y):
    if y == 0:
        return 1.0
    if y == 1:
        return x
    if y == 0.5:
        return math.sqrt(x)
    yi, yf = float(int(abs(y))), abs(y) - int(abs(y))
    if yf != 0 and yf > 0.5:
        yf -= 1
        yi += 1
    a1, ae = 1.0, 0
    if yf != 0:
        a1 = cr(mpmath.exp(mpmath.mpf(yf * cr(mpmath.log(mpmath.mpf(x))))))
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if i & 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    return math.ldexp(a1, ae)


def alpha(nb):
    return max(1 - go_pow(ONE_MINUS_PRECISION, 1 / nb), MIN_EXPONENT)


def window_average(nb, values, num_z):
    a = alpha(nb)
    num_b = nb
    m = a
    if num_z > 0:
        m *= go_pow(1 - a, float(num_z))
        num_b -= num_z
    ret = 0.0
    for i in range(num_b):
        ret += values[nb - 1 - i] * m
        m *= 1 - a
    return ret


def bits(f):
    return "0x%016x" % int.from_bytes(__import__("struct").pack(">d", f), "big")


for nb in (4, 6, 10, 60, 360):
    vals = [(7 * i % 13) + i / 8 for i in range(nb)]
    avgs = [window_average(nb, vals, z) for z in (0, 1, 3)]
    print("(%d, %s, [%s]), // alpha %r, averages %s" % (
        nb, bits(alpha(nb)), ", ".join(bits(v) for v in avgs), alpha(nb),
        ", ".join(repr(v) for v in avgs)))
