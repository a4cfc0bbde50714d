package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PoissonTest {

    @Test
    void meanAndVarianceMatchForSmallAndLargeMeans() {
        SplittableRandom rng = new SplittableRandom(1);
        int n = 40000;
        for (double mean : new double[] {0.3, 4, 9.99, 10, 37.5, 1e3, 1e5}) {
            double s = 0;
            double s2 = 0;
            for (int i = 0; i < n; i++) {
                long k = Poisson.sample(rng, mean);
                s += k;
                s2 += (double) k * k;
            }
            double m = s / n;
            double var = s2 / n - m * m;
            // 5 standard errors of the sample mean; the sample variance within 5 %
            assertEquals(mean, m, 5 * Math.sqrt(mean / n), "mean at " + mean);
            assertEquals(mean, var, 0.05 * mean, "variance at " + mean);
        }
    }

    @Test
    void probabilityOfZeroAtSmallMean() {
        SplittableRandom rng = new SplittableRandom(2);
        int zeros = 0;
        int n = 50000;
        for (int i = 0; i < n; i++) {
            if (Poisson.sample(rng, 1.0) == 0) {
                zeros++;
            }
        }
        assertEquals(Math.exp(-1), zeros / (double) n, 0.01);
    }

    @Test
    void logFactorial() {
        double lf = 0;
        for (int k = 1; k <= 170; k++) {
            lf += Math.log(k);
            assertEquals(lf, Poisson.logFactorial(k), 1e-12 * Math.max(1, lf), "k=" + k);
        }
    }
}
