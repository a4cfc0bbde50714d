package org.restorerwkv.jmh;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
import org.restorerwkv.model.OmniShift;

/**
 * Omni-Shift on (1, C, H, W): the training form (identity + depthwise 1x1, 3x3, 5x5, weighted by
 * alpha) against the re-parameterized single depthwise 5x5 used for inference.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class OmniShiftBench {

    @Param({"16", "48"})
    int channels;

    @Param({"128", "256"})
    int size;

    NDManager manager;
    OmniShift omniShift;
    NDArray x;

    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(0);
        omniShift = new OmniShift(channels);
        omniShift.initialize(manager, DataType.FLOAT32, new Shape(1, channels, 8, 8));
        omniShift.reparameterize();
        x = manager.randomNormal(new Shape(1, channels, size, size));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    // x is lent to a per-call scope (tempAttachAll), so the output and every temporary die with
    // the scope and x goes back to the trial's manager.

    @Benchmark
    public void trainingForm(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(x);
            bh.consume(omniShift.forward(x, true));
        }
    }

    @Benchmark
    public void reparameterized(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(x);
            bh.consume(omniShift.forward(x, false));
        }
    }
}
