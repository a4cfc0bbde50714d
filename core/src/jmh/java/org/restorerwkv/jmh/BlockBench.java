package org.restorerwkv.jmh;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
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
import org.restorerwkv.model.RwkvBlock;
import org.restorerwkv.model.WkvKernel;

/**
 * One RWKV block (LayerNorm, Re-WKV spatial mix with Omni-Shift and two Bi-WKV scans, channel
 * mix) on (1, C, H, W): inference (re-parameterized Omni-Shift, fused Bi-WKV on CPU) and a
 * training step's forward + backward (training-form Omni-Shift, differentiable Bi-WKV).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class BlockBench {

    @Param({"16", "48"})
    int channels;

    @Param({"64", "128"})
    int size;

    NDManager manager;
    RwkvBlock block;
    NDArray x;

    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(0);
        block = new RwkvBlock(channels, 2, 4);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, channels, 8, 8));
        block.setWkvKernel(WkvKernel.AUTO);
        x = manager.randomNormal(new Shape(1, channels, size, size));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    // x is lent to a per-call scope (tempAttachAll), so the output and every temporary die with
    // the scope and x goes back to the trial's manager.

    @Benchmark
    public void inference(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(x);
            bh.consume(block.forward(x, false));
        }
    }

    /** Forward in training mode and backward of the mean output (parameter gradients accumulate). */
    @Benchmark
    public void trainingForwardBackward(Blackhole bh) {
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(x);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(block.forward(x, true).mean());
            }
            bh.consume(x);
        }
    }
}
