package org.restorerwkv.wkv;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp for the fused kernels: a range reduction to r in [-ln2/2, ln2/2] and a Taylor polynomial,
 * built only from additions, multiplications and exact conversions. Unlike {@code Math.exp} in a
 * loop it has no calls or branches; unlike the vector API's {@code VectorOperators.EXP} (an
 * intrinsic once the JIT compiles a loop, a lane-wise {@code Math.exp} before) it gives the same
 * bits interpreted and compiled, so a restoration's result does not depend on JIT warm-up.
 */
final class FastExp {

    private FastExp() {}

    static final double LOG2E = 1.4426950408889634;
    static final double LN2_HI = 0.6931471803691238; // ln 2 split so n * LN2_HI is exact
    static final double LN2_LO = 1.9082149292705877e-10;

    /**
     * x[i] = exp(x[i]) for x <= 0: 2^n * p(r) with r = x - n ln2 in [-ln2/2, ln2/2] and a degree-11
     * Taylor polynomial (relative error below 1e-14, the polynomial's remainder at |r| = ln2/2), without
     * Math.exp's calls and branches, so the loop runs at arithmetic speed. x below -708 counts as
     * -708 (exp 3.3e-308: a weight that vanishes beside any other term of a sum).
     */
    static void expInPlace(double[] x, int n) {
        int from = VectorSupport.AVAILABLE ? Lanes.expInPlace(x, n) : 0;
        for (int i = from; i < n; i++) {
            double v = Math.max(x[i], -708.0);
            double m = Math.rint(v * LOG2E);
            double r = v - m * LN2_HI - m * LN2_LO;
            double p = 1 + r * (1 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720
                    + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800
                    + r * (1.0 / 39916800)))))))))));
            x[i] = p * Double.longBitsToDouble(((long) m + 1023) << 52);
        }
    }

    /**
     * The vector forms, loaded only when {@link VectorSupport#AVAILABLE}. Each computes, lane by
     * lane, the same operations as its scalar counterpart, in the same order.
     */
    static final class Lanes {
        private static final VectorSpecies<Double> SP = DoubleVector.SPECIES_PREFERRED;
        /** 1.5 * 2^52: adding and subtracting it rounds a double below 2^51 to the nearest integer. */
        private static final double ROUNDER = 6755399441055744.0;
        private static final long ROUNDER_BITS = Double.doubleToRawLongBits(ROUNDER);
        /** 1.5 * 2^23, the same for floats below 2^22. */
        private static final float ROUNDER_F = 12582912f;
        private static final int ROUNDER_F_BITS = Float.floatToRawIntBits(ROUNDER_F);
        private static final float LOG2E_F = 1.44269504f;
        /** ln 2 in two parts (Cephes): m * LN2_HI_F is exact for |m| below 2^15. */
        private static final float LN2_HI_F = 0.693359375f;
        private static final float LN2_LO_F = -2.12194440e-4f;

        private Lanes() {}

        /**
         * {@link FastExp#expInPlace} on whole vectors of x[0, n): the same reduction and polynomial,
         * operation for operation (rint as the add-and-subtract of 1.5 * 2^52, exact for |m| <= 1022;
         * 2^m from the integer left in the rounded sum's low bits), so the same results.
         *
         * @return how many leading elements it did (the rest are the scalar loop's)
         */
        static int expInPlace(double[] x, int n) {
            int lanes = SP.length();
            int whole = n / lanes * lanes;
            for (int i = 0; i < whole; i += lanes) {
                exp(DoubleVector.fromArray(SP, x, i)).intoArray(x, i);
            }
            return whole;
        }

        /**
         * exp(x) per lane in double for x in [-708, 709] (clamped there): {@link #expInPlace}'s reduction
         * and polynomial on one vector.
         */
        static DoubleVector exp(DoubleVector x) {
            DoubleVector v = x.max(-708.0).min(709.0);
            DoubleVector biased = v.mul(LOG2E).add(ROUNDER);
            DoubleVector m = biased.sub(ROUNDER);
            DoubleVector r = v.sub(m.mul(LN2_HI)).sub(m.mul(LN2_LO));
            DoubleVector p = r.mul(1.0 / 39916800).add(1.0 / 3628800);
            p = r.mul(p).add(1.0 / 362880);
            p = r.mul(p).add(1.0 / 40320);
            p = r.mul(p).add(1.0 / 5040);
            p = r.mul(p).add(1.0 / 720);
            p = r.mul(p).add(1.0 / 120);
            p = r.mul(p).add(1.0 / 24);
            p = r.mul(p).add(1.0 / 6);
            p = r.mul(p).add(1.0 / 2);
            p = r.mul(p).add(1);
            p = r.mul(p).add(1);
            DoubleVector scale = biased.reinterpretAsLongs().sub(ROUNDER_BITS - 1023)
                    .lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
            return p.mul(scale);
        }

        /**
         * exp(x) per lane in float for x in [-87, 88] (clamped there, so exp never overflows or goes
         * subnormal): degree-7 Taylor polynomial, relative error of the polynomial below 6e-9, a few
         * float ulps in all.
         */
        static FloatVector exp(FloatVector x) {
            FloatVector v = x.max(-87f).min(88f);
            FloatVector biased = v.mul(LOG2E_F).add(ROUNDER_F);
            FloatVector m = biased.sub(ROUNDER_F);
            FloatVector r = v.sub(m.mul(LN2_HI_F)).sub(m.mul(LN2_LO_F));
            FloatVector p = r.mul(1f / 5040).add(1f / 720);
            p = r.mul(p).add(1f / 120);
            p = r.mul(p).add(1f / 24);
            p = r.mul(p).add(1f / 6);
            p = r.mul(p).add(0.5f);
            p = r.mul(p).add(1f);
            p = r.mul(p).add(1f);
            // 2^m from the integer in the rounded sum's low bits, as the double form does: a float-to-int
            // conversion of m gives the same integer, but JDK 17's C2 does not compile it at this
            // width, and the library fallback cost a third of a light-model pass
            IntVector e = biased.reinterpretAsInts().sub(ROUNDER_F_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            return p.mul(e.reinterpretAsFloats());
        }

        /** The lanes' sum added in lane order (reduceLanes(ADD) leaves the order to the JIT). */
        static float sum(FloatVector v) {
            float s = 0;
            for (int i = 0; i < v.length(); i++) {
                s += v.lane(i);
            }
            return s;
        }
    }
}
