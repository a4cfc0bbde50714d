package org.restorerwkv.degrade;

import java.util.SplittableRandom;

/**
 * Low-count PET from a full-count activity slice: the acquisition of a fraction of the counts
 * (shorter scan or lower injected dose), rescaled to the same activity units (SUV).
 *
 * <p>Counting model: the full-count acquisition of the slice records {@code fullCounts} expected
 * counts (default 1e6, an effective per-slice budget), distributed in proportion to the activity;
 * negative activities (reconstruction undershoot) count as 0. The counts of a fraction {@code f}
 * are Poisson with f times those means, and divided by the expected counts per SUV to return to
 * SUV, so the mean activity is unchanged and the variance grows as 1/f.
 *
 * <p>Modes. A real full-count image already carries the noise of {@code fullCounts} counts, so by
 * default ({@link Mode#INSERT_NOISE}) only the missing noise is added: that of an acquisition of
 * fraction {@code f / (1 - f)}, centred on zero (variances add: {@code 1/f = 1 + (1 - f)/f}). For
 * a noiseless activity map (a phantom) {@link Mode#NOISELESS_INPUT} returns the low-count image
 * itself.
 *
 * <p>Domains. Without {@link Osem} the counts are drawn per pixel (uncorrelated noise, fast).
 * With it they are drawn per line of response in a 2-D parallel-beam sinogram of the slice
 * (Joseph projector, no attenuation, scatter or randoms) and the image is reconstructed by OSEM,
 * which gives PET's correlated, activity-dependent noise; in {@link Mode#INSERT_NOISE} the noise
 * added is OSEM(noisy) minus OSEM(noiseless), so the input keeps its resolution.
 *
 * <p>Immutable and stateless per call; noise depends only on the seed.
 */
public record PetLowCount(double fraction, double fullCounts, Mode mode, Osem osem) implements Degradation {

    public static final String TASK = "pet-lowcount";

    /** What the input is taken to be. */
    public enum Mode {
        /** A real full-count image: add the noise it lacks (default). */
        INSERT_NOISE,
        /** A noiseless activity map: return the low-count image. */
        NOISELESS_INPUT;

        /** Parses "insert-noise", "noiseless-input". */
        public static Mode parse(String s) {
            String k = s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
            for (Mode m : values()) {
                if (m.name().equals(k)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown PET mode '" + s + "' (insert-noise, noiseless-input)");
        }

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * Projection-domain simulation: {@code views} angles over 180 degrees, detector bins one pixel
     * apart, OSEM with {@code subsets} ordered subsets (interleaved views) for {@code iterations}
     * passes, started from a uniform image.
     */
    public record Osem(int views, int iterations, int subsets) {
        public Osem {
            Slices.requirePositive("views", views);
            Slices.requirePositive("OSEM iterations", iterations);
            Slices.requirePositive("OSEM subsets", subsets);
            if (subsets > views) {
                throw new IllegalArgumentException("OSEM subsets " + subsets + " exceed the " + views + " views");
            }
        }

        /** 180 views, 4 iterations of 6 subsets. */
        public static Osem defaults() {
            return new Osem(180, 4, 6);
        }
    }

    public PetLowCount {
        Slices.requirePositive("count fraction", fraction);
        if (fraction > 1) {
            throw new IllegalArgumentException("count fraction must be in (0, 1], got " + fraction);
        }
        Slices.requirePositive("full counts", fullCounts);
        java.util.Objects.requireNonNull(mode, "mode");
    }

    /** Image domain, 1e6 full counts, noise insertion. */
    public static PetLowCount ofFraction(double fraction) {
        return new PetLowCount(fraction, 1e6, Mode.INSERT_NOISE, null);
    }

    @Override
    public String task() {
        return TASK;
    }

    @Override
    public String describe() {
        return TASK + ": count fraction " + fraction + " of " + fullCounts + " counts/slice, mode " + mode + ", "
                + (osem == null ? "image-domain Poisson"
                        : "sinogram Poisson, " + osem.views() + " views, OSEM " + osem.iterations() + " it x "
                                + osem.subsets() + " subsets");
    }

    @Override
    public float[] apply(float[] slice, int height, int width, long seed) {
        Slices.check(slice, height, width);
        double simFraction = fraction;
        if (mode == Mode.INSERT_NOISE) {
            if (fraction == 1) {
                return slice.clone(); // already at full count
            }
            simFraction = fraction / (1 - fraction);
        }
        double[] act = new double[slice.length];
        double total = 0;
        for (int i = 0; i < act.length; i++) {
            act[i] = Math.max(0.0, slice[i]);
            total += act[i];
        }
        if (total == 0) {
            return slice.clone(); // no activity, no counts
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] noisy;
        double[] clean;
        if (osem == null) {
            double perSuv = simFraction * fullCounts / total; // expected counts per SUV in a pixel
            noisy = new double[act.length];
            for (int i = 0; i < act.length; i++) {
                noisy[i] = Poisson.sample(rng, perSuv * act[i]) / perSuv;
            }
            clean = act;
        } else {
            Projector proj = new Projector(height, width, 1.0, new BeamGeometry.Parallel(), osem.views(), 1.0, 0);
            double[] ybar = proj.forward(act);
            double sum = 0;
            for (double y : ybar) {
                sum += y;
            }
            double perUnit = simFraction * fullCounts / sum;
            double[] y = new double[ybar.length];
            for (int k = 0; k < y.length; k++) {
                ybar[k] *= perUnit;
                y[k] = Poisson.sample(rng, ybar[k]);
            }
            noisy = reconstruct(proj, y, perUnit);
            clean = mode == Mode.INSERT_NOISE ? reconstruct(proj, ybar, perUnit) : null;
        }
        float[] out = new float[slice.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (mode == Mode.INSERT_NOISE ? slice[i] + noisy[i] - clean[i] : noisy[i]);
        }
        return out;
    }

    /**
     * OSEM of counts {@code y}, in activity units (divided by the expected counts per unit of
     * activity). Each sub-iteration is the MLEM update over one subset S:
     * {@code x <- x / (A_S^T 1) * A_S^T (y / A_S x)}, with 0/0 taken as 0.
     */
    private double[] reconstruct(Projector proj, double[] y, double perUnit) {
        int subsets = osem.subsets();
        int pixels = proj.height() * proj.width();
        double[] ones = new double[y.length];
        java.util.Arrays.fill(ones, 1.0);
        double[][] sensitivity = new double[subsets][];
        for (int s = 0; s < subsets; s++) {
            sensitivity[s] = proj.adjoint(ones, s, subsets);
        }
        // uniform start whose projections hold as many counts as y
        double[] unit = new double[pixels];
        java.util.Arrays.fill(unit, 1.0);
        double projected = 0;
        for (double v : proj.forward(unit)) {
            projected += v;
        }
        double counts = 0;
        for (double v : y) {
            counts += v;
        }
        double[] x = new double[pixels];
        java.util.Arrays.fill(x, counts / projected);
        int bins = proj.bins();
        for (int it = 0; it < osem.iterations(); it++) {
            for (int s = 0; s < subsets; s++) {
                double[] expected = proj.forward(x, s, subsets);
                double[] ratio = new double[y.length];
                for (int v = s; v < proj.views(); v += subsets) {
                    for (int k = v * bins; k < (v + 1) * bins; k++) {
                        ratio[k] = expected[k] > 0 ? y[k] / expected[k] : 0;
                    }
                }
                double[] back = proj.adjoint(ratio, s, subsets);
                double[] sens = sensitivity[s];
                for (int j = 0; j < pixels; j++) {
                    x[j] = sens[j] > 0 ? x[j] * back[j] / sens[j] : 0;
                }
            }
        }
        for (int j = 0; j < pixels; j++) {
            x[j] /= perUnit;
        }
        return x;
    }
}
