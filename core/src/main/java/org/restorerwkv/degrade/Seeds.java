package org.restorerwkv.degrade;

/** Seed derivation, so that slices processed in any order or in parallel get the same noise. */
public final class Seeds {

    private Seeds() {
    }

    /**
     * A seed for slice {@code index} of a run seeded with {@code seed}: the pair is mixed with the
     * SplitMix64 finalizer, so neighbouring indices and seeds give unrelated streams.
     */
    public static long forSlice(long seed, long index) {
        return mix(mix(seed) + 0x9E3779B97F4A7C15L * (index + 1));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
