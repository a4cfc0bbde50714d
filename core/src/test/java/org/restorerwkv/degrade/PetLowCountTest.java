package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PetLowCountTest {

    static final int N = 128;

    /** Uniform 5 SUV disc of radius 0.8 half-FOV in a cold background. */
    static float[] uniform() {
        return Phantoms.disc(N, 0.8, 5f, 0f);
    }

    /** Mean and variance over the centred disc of radius r pixels. */
    static double[] stats(float[] img, double r) {
        double[] s = CtLowDoseTest.statsInDisc(img, N, r);
        return new double[] {s[0], s[1] * s[1]};
    }

    @Test
    void imageDomainPreservesMeanAndScalesVarianceAsInverseFraction() {
        float[] act = uniform();
        double r = 0.4 * N - 2;
        PetLowCount quarter = new PetLowCount(0.25, 1e6, PetLowCount.Mode.NOISELESS_INPUT, null);
        PetLowCount twelfth = new PetLowCount(1.0 / 12, 1e6, PetLowCount.Mode.NOISELESS_INPUT, null);
        double[] q = stats(quarter.apply(act, N, N, 1), r);
        double[] t = stats(twelfth.apply(act, N, N, 2), r);
        assertEquals(5.0, q[0], 0.01 * 5.0, "mean at 1/4");
        assertEquals(5.0, t[0], 0.01 * 5.0, "mean at 1/12");
        assertEquals(3.0, t[1] / q[1], 0.1 * 3.0, "variance ratio " + t[1] / q[1]);
        // absolute level: 1e6 counts over the disc, 5 SUV per pixel -> var = 5^2 / (f * counts per pixel)
        double pixels = Math.PI * Math.pow(0.4 * N, 2);
        double expected = 25.0 / (0.25 * 1e6 / pixels);
        assertEquals(expected, q[1], 0.1 * expected, "variance at 1/4");
    }

    @Test
    void insertedNoiseMakesUpTheMissingVariance() {
        float[] act = uniform();
        double r = 0.4 * N - 2;
        assertArrayEquals(act, PetLowCount.ofFraction(1).apply(act, N, N, 1));
        double[] q = stats(PetLowCount.ofFraction(0.25).apply(act, N, N, 3), r);
        double[] t = stats(PetLowCount.ofFraction(1.0 / 12).apply(act, N, N, 4), r);
        assertEquals(5.0, q[0], 0.01 * 5.0);
        assertEquals(5.0, t[0], 0.01 * 5.0);
        // added variance (1 - f) / f: 3 at 1/4, 11 at 1/12
        assertEquals(11.0 / 3, t[1] / q[1], 0.1 * 11.0 / 3, "variance ratio " + t[1] / q[1]);
    }

    @Test
    void projectionDomainOsemPreservesMeanAndScalesVariance() {
        float[] act = uniform();
        double r = 0.4 * N - 10;
        PetLowCount.Osem osem = new PetLowCount.Osem(90, 3, 5);
        double[] q = stats(new PetLowCount(0.25, 1e6, PetLowCount.Mode.NOISELESS_INPUT, osem).apply(act, N, N, 5), r);
        double[] t = stats(new PetLowCount(1.0 / 12, 1e6, PetLowCount.Mode.NOISELESS_INPUT, osem).apply(act, N, N, 6), r);
        assertEquals(5.0, q[0], 0.03 * 5.0, "mean at 1/4");
        assertEquals(5.0, t[0], 0.03 * 5.0, "mean at 1/12");
        assertEquals(3.0, t[1] / q[1], 0.25 * 3.0, "variance ratio " + t[1] / q[1]);
        // inserted noise: zero at full count, zero-mean otherwise
        PetLowCount insert = new PetLowCount(0.25, 1e6, PetLowCount.Mode.INSERT_NOISE, osem);
        double[] i = stats(insert.apply(act, N, N, 7), r);
        assertEquals(5.0, i[0], 0.03 * 5.0);
        assertTrue(i[1] > 0.01, "inserted variance " + i[1]);
    }

    @Test
    void deterministicInputUntouchedAndNegativeValuesCountNothing() {
        float[] act = uniform();
        act[0] = -0.5f; // background undershoot
        float[] copy = act.clone();
        PetLowCount pet = PetLowCount.ofFraction(0.1);
        float[] a = pet.apply(act, N, N, 9);
        assertArrayEquals(a, pet.apply(act, N, N, 9));
        assertFalse(Arrays.equals(a, pet.apply(act, N, N, 10)));
        assertArrayEquals(copy, act);
        assertEquals(-0.5f, a[0]);
        float[] empty = new float[16];
        assertArrayEquals(empty, pet.apply(empty, 4, 4, 0));
    }

    @Test
    void rejectsBadParametersAndInput() {
        assertThrows(IllegalArgumentException.class, () -> PetLowCount.ofFraction(0));
        assertThrows(IllegalArgumentException.class, () -> PetLowCount.ofFraction(1.01));
        assertThrows(IllegalArgumentException.class, () -> new PetLowCount(0.5, -1, PetLowCount.Mode.INSERT_NOISE, null));
        assertThrows(IllegalArgumentException.class, () -> new PetLowCount.Osem(10, 1, 11));
        assertThrows(IllegalArgumentException.class, () -> new PetLowCount.Osem(10, 0, 1));
        float[] nan = new float[4];
        nan[2] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> PetLowCount.ofFraction(0.5).apply(nan, 2, 2, 0));
    }
}
