package org.restorerwkv.degrade;

import java.util.random.RandomGenerator;

/**
 * Exact Poisson sampling for any mean: inversion by sequential search for small means, and
 * Hörmann's transformed rejection with squeeze (PTRS, 1993) for means of 10 and above, whose cost
 * does not grow with the mean (CT rays carry up to 1e5 photons).
 */
final class Poisson {

    private static final double SMALL_MEAN = 10.0;

    private Poisson() {
    }

    static long sample(RandomGenerator rng, double mean) {
        if (!(mean >= 0) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("Poisson mean must be finite and >= 0, got " + mean);
        }
        if (mean == 0) {
            return 0;
        }
        return mean < SMALL_MEAN ? inversion(rng, mean) : ptrs(rng, mean);
    }

    /** Walks the cumulative distribution from k = 0; about mean + 1 steps. */
    private static long inversion(RandomGenerator rng, double mean) {
        double u = rng.nextDouble();
        double p = Math.exp(-mean);
        double cdf = p;
        long k = 0;
        // the cap only guards against u within rounding of 1; P(k > mean + 60) is negligible here
        while (u > cdf && k < 1000) {
            k++;
            p *= mean / k;
            cdf += p;
        }
        return k;
    }

    /** W. Hörmann, "The transformed rejection method for generating Poisson random variables". */
    private static long ptrs(RandomGenerator rng, double mean) {
        double slam = Math.sqrt(mean);
        double logLam = Math.log(mean);
        double b = 0.931 + 2.53 * slam;
        double a = -0.059 + 0.02483 * b;
        double invAlpha = 1.1239 + 1.1328 / (b - 3.4);
        double vr = 0.9277 - 3.6224 / (b - 2);
        while (true) {
            double u = rng.nextDouble() - 0.5;
            double v = rng.nextDouble();
            double us = 0.5 - Math.abs(u);
            long k = (long) Math.floor((2 * a / us + b) * u + mean + 0.43);
            if (us >= 0.07 && v <= vr) {
                return k;
            }
            if (k < 0 || (us < 0.013 && v > us)) {
                continue;
            }
            double lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
            double rhs = -mean + k * logLam - logFactorial(k);
            if (lhs <= rhs) {
                return k;
            }
        }
    }

    /** ln(k!) by Stirling's series, shifted up to k >= 10 where it is accurate to ~1e-15. */
    static double logFactorial(long k) {
        if (k < 2) {
            return 0;
        }
        double shift = 0;
        double x = k + 1.0; // ln(k!) = lnGamma(k + 1)
        while (x < 10) {
            shift -= Math.log(x);
            x += 1;
        }
        double x2 = 1 / (x * x);
        double series = (1.0 / 12 - x2 * (1.0 / 360 - x2 * (1.0 / 1260 - x2 * (1.0 / 1680)))) / x;
        return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
    }
}
