package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The kernels' exp: accurate, and the same bits whether the loop runs interpreted or compiled. */
class FastExpTest {

    private static final VectorSpecies<Float> FSP = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DSP = DoubleVector.SPECIES_PREFERRED;

    @Test
    void floatExpIsWithinFourUlpOfMathExpOnItsRange() {
        SplittableRandom r = new SplittableRandom(1);
        float[] x = new float[FSP.length() * 4000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (-87 + 175 * r.nextDouble());
        }
        x[0] = 0f;
        x[1] = -87f;
        x[2] = 88f;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += FSP.length()) {
            FastExp.Lanes.exp(FloatVector.fromArray(FSP, x, i)).intoArray(y, i);
        }
        for (int i = 0; i < x.length; i++) {
            float ref = (float) Math.exp(x[i]);
            assertTrue(Math.abs(y[i] - ref) <= 4 * Math.ulp(ref), "x = " + x[i] + ": " + y[i] + " vs " + ref);
        }
        assertEquals(1f, y[0]);
    }

    @Test
    void doubleExpAgreesWithTheScalarLoopBitForBit() {
        SplittableRandom r = new SplittableRandom(2);
        double[] x = new double[DSP.length() * 4000 + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = -750 + 750 * r.nextDouble();
        }
        double[] scalar = x.clone();
        for (int i = 0; i < scalar.length; i++) {
            double[] one = {scalar[i]};
            FastExp.expInPlace(one, 1); // one element: below a vector, the scalar loop
            scalar[i] = one[0];
        }
        double[] vector = x.clone();
        FastExp.expInPlace(vector, vector.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Double.doubleToLongBits(scalar[i]), Double.doubleToLongBits(vector[i]), "x = " + x[i]);
            double ref = Math.exp(Math.max(x[i], -708));
            assertTrue(Math.abs(vector[i] - ref) <= 1e-14 * ref, "x = " + x[i]);
        }
    }
}
