package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The kernels' exp is defined by IEEE operations only (so the vector and scalar forms agree bit for bit) and accurate. */
class VectorMathTest {

    private static final VectorSpecies<Float> FSP = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DSP = DoubleVector.SPECIES_PREFERRED;

    private static float[] floats(SplittableRandom r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    @Test
    void floatExpMatchesItsScalarTwinAndMathExp() {
        float[] x = floats(new SplittableRandom(1), FSP.length() * 4000, -100, 100);
        x[0] = Float.NaN;
        x[1] = Float.NEGATIVE_INFINITY;
        x[2] = Float.POSITIVE_INFINITY;
        x[3] = 88.7f;
        x[4] = -87.3f;
        x[5] = 0f;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += FSP.length()) {
            VectorMath.exp(FloatVector.fromArray(FSP, x, i)).intoArray(y, i);
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VectorMath.exp(x[i])), Float.floatToIntBits(y[i]), "x = " + x[i]);
            float ref = (float) Math.exp(x[i]);
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(y[i]));
            } else if (x[i] < -87.33654f) {
                assertEquals(0f, y[i]);
            } else if (Float.isInfinite(ref)) {
                assertEquals(ref, y[i]);
            } else {
                assertTrue(Math.abs(y[i] - ref) <= 2 * Math.ulp(ref), "x = " + x[i] + ": " + y[i] + " vs " + ref);
            }
        }
    }

    @Test
    void doubleExpMatchesItsScalarTwinAndMathExp() {
        SplittableRandom r = new SplittableRandom(2);
        double[] x = new double[DSP.length() * 4000];
        for (int i = 0; i < x.length; i++) {
            x[i] = -800 + 1600 * r.nextDouble();
        }
        x[0] = Double.NaN;
        x[1] = 709.7;
        x[2] = -708.3;
        x[3] = -1e-300;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i += DSP.length()) {
            VectorMath.exp(DoubleVector.fromArray(DSP, x, i)).intoArray(y, i);
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(Double.doubleToLongBits(VectorMath.exp(x[i])), Double.doubleToLongBits(y[i]), "x = " + x[i]);
            double ref = Math.exp(x[i]);
            if (Double.isNaN(x[i])) {
                assertTrue(Double.isNaN(y[i]));
            } else if (x[i] < -708.3964185322641) {
                assertEquals(0d, y[i]);
            } else if (Double.isInfinite(ref)) {
                assertEquals(ref, y[i]);
            } else {
                assertTrue(Math.abs(y[i] - ref) <= 2 * Math.ulp(ref), "x = " + x[i] + ": " + y[i] + " vs " + ref);
            }
        }
    }

    @Test
    void laneSumsAddInLaneOrder() {
        float[] x = floats(new SplittableRandom(3), FSP.length(), -1e6, 1e6);
        float expected = 0;
        for (float v : x) {
            expected += v;
        }
        assertEquals(expected, VectorMath.sum(FloatVector.fromArray(FSP, x, 0), new float[FSP.length()]));
    }
}
