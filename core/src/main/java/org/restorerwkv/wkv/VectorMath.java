package org.restorerwkv.wkv;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp and lane sums for the SIMD kernels built only from operations whose result IEEE 754 fixes
 * (add, sub, mul, fma, min, max, integer bit operations), so that a kernel gives the same bits
 * whether the JIT has compiled it yet or not.
 *
 * <p>Why hand-written: the vector API leaves two things open that the kernels used.
 * {@code lanewise(EXP)} runs {@code Math.exp} per lane until C2 compiles the caller and Intel's SVML
 * routine afterwards, and the two differ in the last bit for some inputs; {@code reduceLanes(ADD)}
 * adds the lanes in sequence in the interpreter and as a tree once compiled. When a method gets
 * compiled depends on background compilation, so two runs of one restoration differed by up to
 * 3.7e-4 (measured: the same {@code restore} twice, {@code --threads 1}; identical with the scalar
 * kernels). No library offers an exp over the vector API.
 *
 * <p>exp: Cody-Waite reduction x = n ln2 + r with |r| &lt;= ln2/2, a Taylor polynomial in r
 * (degree 7 in float, 13 in double: truncation error below half an ulp), and 2^n put in the
 * exponent bits. Results are within 2 ulp of {@code Math.exp}; below the smallest normal number
 * (x &lt; -87.3 in float, -708.3 in double) they are 0 instead of subnormal.
 */
final class VectorMath {

    private static final float F_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final float F_LOG2E = 1.44269504088896341f;
    private static final float F_LN2_HI = 0.693359375f; // few mantissa bits: n * F_LN2_HI is exact
    private static final float F_LN2_LO = -2.12194440e-4f;
    private static final float F_MIN = -87.33654f; // ln(smallest normal float)
    private static final float F_OVERFLOW = 88.72284f; // ln(Float.MAX_VALUE)

    private static final double D_MAGIC = 6755399441055744.0; // 1.5 * 2^52
    private static final double D_LOG2E = 1.4426950408889634;
    private static final double D_LN2_HI = 6.93147180369123816490e-01;
    private static final double D_LN2_LO = 1.90821492927058770002e-10;
    private static final double D_MIN = -708.3964185322641; // ln(smallest normal double)
    private static final double D_OVERFLOW = 709.782712893384; // ln(Double.MAX_VALUE)

    /** 1/k! for k = 0..13. */
    private static final double[] INV_FACT = new double[14];

    static {
        double f = 1;
        for (int k = 0; k < INV_FACT.length; k++) {
            f = k == 0 ? 1 : f * k;
            INV_FACT[k] = 1 / f;
        }
    }

    private VectorMath() {}

    /** exp per lane, float. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(F_MIN).min(F_OVERFLOW); // NaN stays NaN
        FloatVector t = xc.fma(x.broadcast(F_LOG2E), x.broadcast(F_MAGIC));
        FloatVector n = t.sub(F_MAGIC);
        IntVector ni = t.reinterpretAsInts().sub(Float.floatToRawIntBits(F_MAGIC));
        FloatVector r = n.fma(x.broadcast(-F_LN2_HI), xc);
        r = n.fma(x.broadcast(-F_LN2_LO), r);
        FloatVector p = x.broadcast((float) INV_FACT[7]);
        for (int k = 6; k >= 0; k--) {
            p = p.fma(r, x.broadcast((float) INV_FACT[k]));
        }
        // 2^n as two normal factors (n reaches 128, past the largest float exponent); both products exact
        IntVector h = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector y = p.mul(h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(ni.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        VectorMask<Float> under = x.compare(VectorOperators.LT, F_MIN);
        VectorMask<Float> over = x.compare(VectorOperators.GT, F_OVERFLOW);
        return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }

    /** exp per lane, double. */
    static DoubleVector exp(DoubleVector x) {
        DoubleVector xc = x.max(D_MIN).min(D_OVERFLOW);
        DoubleVector t = xc.fma(x.broadcast(D_LOG2E), x.broadcast(D_MAGIC));
        DoubleVector n = t.sub(D_MAGIC);
        LongVector ni = t.reinterpretAsLongs().sub(Double.doubleToRawLongBits(D_MAGIC));
        DoubleVector r = n.fma(x.broadcast(-D_LN2_HI), xc);
        r = n.fma(x.broadcast(-D_LN2_LO), r);
        DoubleVector p = x.broadcast(INV_FACT[13]);
        for (int k = 12; k >= 0; k--) {
            p = p.fma(r, x.broadcast(INV_FACT[k]));
        }
        LongVector h = ni.lanewise(VectorOperators.ASHR, 1);
        DoubleVector y = p.mul(h.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles())
                .mul(ni.sub(h).add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles());
        VectorMask<Double> under = x.compare(VectorOperators.LT, D_MIN);
        VectorMask<Double> over = x.compare(VectorOperators.GT, D_OVERFLOW);
        return y.blend(0d, under).blend(Double.POSITIVE_INFINITY, over);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations, so the same bits. */
    static float exp(float x) {
        if (Float.isNaN(x)) {
            return x;
        }
        if (x < F_MIN) {
            return 0f;
        }
        if (x > F_OVERFLOW) {
            return Float.POSITIVE_INFINITY;
        }
        float xc = x;
        float t = Math.fma(xc, F_LOG2E, F_MAGIC);
        float n = t - F_MAGIC;
        int ni = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(F_MAGIC);
        float r = Math.fma(n, -F_LN2_HI, xc);
        r = Math.fma(n, -F_LN2_LO, r);
        float p = (float) INV_FACT[7];
        for (int k = 6; k >= 0; k--) {
            p = Math.fma(p, r, (float) INV_FACT[k]);
        }
        int h = ni >> 1;
        return p * Float.intBitsToFloat((h + 127) << 23) * Float.intBitsToFloat((ni - h + 127) << 23);
    }

    /** The scalar twin of {@link #exp(DoubleVector)}. */
    static double exp(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < D_MIN) {
            return 0d;
        }
        if (x > D_OVERFLOW) {
            return Double.POSITIVE_INFINITY;
        }
        double xc = x;
        double t = Math.fma(xc, D_LOG2E, D_MAGIC);
        double n = t - D_MAGIC;
        long ni = Double.doubleToRawLongBits(t) - Double.doubleToRawLongBits(D_MAGIC);
        double r = Math.fma(n, -D_LN2_HI, xc);
        r = Math.fma(n, -D_LN2_LO, r);
        double p = INV_FACT[13];
        for (int k = 12; k >= 0; k--) {
            p = Math.fma(p, r, INV_FACT[k]);
        }
        long h = ni >> 1;
        return p * Double.longBitsToDouble((h + 1023) << 52) * Double.longBitsToDouble((ni - h + 1023) << 52);
    }

    /** The sum of the lanes, added from lane 0 upwards (a fixed order, unlike {@code reduceLanes(ADD)}). */
    static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0;
        for (int i = 0, n = v.length(); i < n; i++) {
            s += scratch[i];
        }
        return s;
    }
}
