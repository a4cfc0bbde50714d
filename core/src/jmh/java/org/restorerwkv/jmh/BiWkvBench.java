package org.restorerwkv.jmh;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.restorerwkv.wkv.BiWkv;

/**
 * Bi-WKV on (1, T, C), T a square token grid (16384 = 128², 65536 = 256²), with decays and keys
 * in the range trained models reach: the fused CPU kernel (on Java arrays, and through NDArrays
 * as SpatialMix calls it) against the differentiable DJL form (forward, and forward + backward).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class BiWkvBench {

    @Param({"16384", "65536"})
    int tokens;

    @Param({"16", "48"})
    int channels;

    NDManager manager;
    float[] w;
    float[] u;
    float[] k;
    float[] v;
    float[] out;
    int side;
    NDArray[] arrays; // w, u, k (1,T,C), v (1,T,C) as NDArrays

    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        side = (int) Math.round(Math.sqrt(tokens));
        if (side * side != tokens) {
            throw new IllegalArgumentException("tokens must be a square, got " + tokens);
        }
        SplittableRandom r = new SplittableRandom(0);
        k = new float[tokens * channels];
        v = new float[tokens * channels];
        out = new float[tokens * channels];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) (r.nextGaussian() * 2);
            v[i] = (float) r.nextGaussian();
        }
        w = new float[channels];
        u = new float[channels];
        for (int c = 0; c < channels; c++) {
            // spatial_decay and spatial_first of a few units, divided by T as SpatialMix does
            w[c] = (float) ((r.nextDouble() - 0.5) * 8 / tokens);
            u[c] = (float) (r.nextGaussian() / tokens);
        }
        Shape s = new Shape(1, tokens, channels);
        arrays = new NDArray[] {manager.create(w), manager.create(u), manager.create(k, s), manager.create(v, s)};
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public float[] fusedArrays() {
        BiWkv.fused(w, u, k, v, out, 1, side, side, channels, false);
        return out;
    }

    // The NDArray inputs are lent to a per-call scope (tempAttachAll): the results and every
    // temporary die with the scope, the inputs go back to the trial's manager.

    @Benchmark
    public void fusedNDArray(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(arrays);
            bh.consume(BiWkv.fused(arrays[0], arrays[1], arrays[2], arrays[3], side, side, false));
        }
    }

    @Benchmark
    public void differentiable(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(arrays);
            bh.consume(BiWkv.differentiable(arrays[0], arrays[1], arrays[2], arrays[3]));
        }
    }

    @Benchmark
    public void differentiableBackward(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(arrays);
            for (NDArray a : arrays) {
                a.setRequiresGradient(true); // gradients accumulate across calls: an add per call
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(BiWkv.differentiable(arrays[0], arrays[1], arrays[2], arrays[3]).sum());
            }
            bh.consume(arrays[2].getGradient());
        }
    }
}
