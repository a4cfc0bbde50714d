package org.restorerwkv.model;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A module's parameters as Java arrays in the layouts its inference fast path reads (transposed,
 * stacked), made on first use and kept until the weights change. Converting them on every call left
 * megabytes of garbage per restoration, so the Java heap's young generation spread over fresh pages
 * for dozens of restorations before its first collection: resident memory grew long after warm-up.
 * {@link RestoreRwkv#weightsChanged} drops them, after every load and optimizer step.
 */
final class HostWeights {

    private final Map<String, float[]> arrays = new ConcurrentHashMap<>();

    /** The array named {@code name}, made by {@code make} if absent (never modify it). */
    float[] get(String name, Supplier<float[]> make) {
        float[] a = arrays.get(name);
        if (a == null) {
            a = make.get();
            arrays.put(name, a); // a concurrent miss makes the same array twice; either is right
        }
        return a;
    }

    void clear() {
        arrays.clear();
    }
}
