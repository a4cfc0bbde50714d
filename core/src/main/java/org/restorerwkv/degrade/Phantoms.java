package org.restorerwkv.degrade;

/** Synthetic CT slices in Hounsfield units, for tests and demonstrations. */
public final class Phantoms {

    /** Air, the value outside every ellipse. */
    public static final float AIR_HU = -1000f;

    // Modified Shepp-Logan geometry (Toft 1996): semi-axes a (x), b (y), centre (x0, y0) in units of
    // the half field of view, rotation in degrees; the additive values are ours, in HU, chosen so
    // the regions read as bone 1000, brain 20, ventricles (CSF) 0 and small lesions 60.
    private static final double[][] ELLIPSES = {
        // HU added, a, b, x0, y0, phi
        {2000, 0.69, 0.92, 0, 0, 0},
        {-980, 0.6624, 0.874, 0, -0.0184, 0},
        {-20, 0.11, 0.31, 0.22, 0, -18},
        {-20, 0.16, 0.41, -0.22, 0, 18},
        {40, 0.21, 0.25, 0, 0.35, 0},
        {40, 0.046, 0.046, 0, 0.1, 0},
        {40, 0.046, 0.046, 0, -0.1, 0},
        {40, 0.046, 0.023, -0.08, -0.605, 0},
        {40, 0.023, 0.023, 0, -0.606, 0},
        {40, 0.023, 0.046, 0.06, -0.605, 0},
    };

    private Phantoms() {
    }

    /**
     * The modified Shepp-Logan head phantom on an n x n grid, row-major with row 0 at the top,
     * sampled at pixel centres: bone 1000 HU, brain 20, ventricles 0, lesions 60 (40 where they
     * overlap a ventricle), air -1000.
     */
    public static float[] sheppLogan(int n) {
        return sheppLogan(n, 1);
    }

    /**
     * As {@link #sheppLogan(int)}, each pixel the mean of {@code sub x sub} equally spaced samples:
     * the partial-volume average a detector-limited scanner would record at the edges, instead of
     * a staircase whose sharp corners no band-limited scan can reproduce.
     */
    public static float[] sheppLogan(int n, int sub) {
        Slices.requirePositive("phantom size", n);
        Slices.requirePositive("supersampling", sub);
        float[] img = new float[n * n];
        double half = 0.5 * n;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int si = 0; si < sub; si++) {
                    double y = (0.5 * (n - 1) - i + (0.5 - (si + 0.5) / sub) * (sub > 1 ? 1 : 0)) / half;
                    for (int sj = 0; sj < sub; sj++) {
                        double x = (j - 0.5 * (n - 1) + ((sj + 0.5) / sub - 0.5) * (sub > 1 ? 1 : 0)) / half;
                        sum += sheppLoganAt(x, y);
                    }
                }
                img[i * n + j] = (float) (sum / (sub * sub));
            }
        }
        return img;
    }

    /** Phantom value at (x, y) in units of the half field of view, y up. */
    private static double sheppLoganAt(double x, double y) {
        double v = AIR_HU;
        for (double[] e : ELLIPSES) {
            double phi = Math.toRadians(e[5]);
            double dx = x - e[3];
            double dy = y - e[4];
            double xr = dx * Math.cos(phi) + dy * Math.sin(phi);
            double yr = -dx * Math.sin(phi) + dy * Math.cos(phi);
            if ((xr * xr) / (e[1] * e[1]) + (yr * yr) / (e[2] * e[2]) <= 1) {
                v += e[0];
            }
        }
        return v;
    }

    /**
     * A centred disc of radius {@code radiusFraction} of the half field of view holding
     * {@code insideHu}, surrounded by {@code outsideHu}; e.g. a water cylinder (0) in air (-1000).
     */
    public static float[] disc(int n, double radiusFraction, float insideHu, float outsideHu) {
        Slices.requirePositive("phantom size", n);
        float[] img = new float[n * n];
        double half = 0.5 * n;
        for (int i = 0; i < n; i++) {
            double y = (0.5 * (n - 1) - i) / half;
            for (int j = 0; j < n; j++) {
                double x = (j - 0.5 * (n - 1)) / half;
                img[i * n + j] = x * x + y * y <= radiusFraction * radiusFraction ? insideHu : outsideHu;
            }
        }
        return img;
    }
}
