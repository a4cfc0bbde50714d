package org.restorerwkv.infer;

import java.lang.management.ManagementFactory;
import org.restorerwkv.domain.Padding;
import org.restorerwkv.model.ModelConfig;

/**
 * Peak memory of one inference pass beyond the loaded model, used by automatic tiling.
 *
 * <p>The inference fast path keeps its activations in per-thread reusable arrays on the Java heap
 * (model/HostBuffers) plus libtorch temporaries of at most a few MB, so the peak grows with the
 * padded pixels times the widest activations, which scale with {@code dim}. The constants are
 * fitted to {@code restore-rwkv bench --memory} (a fresh process per size): they bound the Java
 * heap a pass leaves in use after a full collection (its reusable buffers, which grow to the
 * largest pass) over that of a 16 x 16 slice; docs/performance.md lists measured and estimated
 * values. A fresh process's peak RSS rises somewhat more (1.0-1.3x under the launcher's serial
 * collector, 2-3x under G1), by the garbage the vector kernels make until the JIT has compiled
 * them, which depends on the collector, not the pass; so the estimate is of what a pass needs, and
 * the budget is a share of the maximum heap.
 */
public final class MemoryEstimate {

    /**
     * Bytes per padded pixel per channel of {@code dim} (fitted, see the class comment): the widest
     * level keeps about 17 (default model) to 18 (light) floats per pixel per dim, Quad- and
     * Uni-Shift about 20 (their mixed inputs are one more image-sized buffer).
     */
    static final double BYTES_PER_PIXEL_PER_DIM = 4.0 * 24;
    /** Bytes per padded pixel independent of dim: input, output, padding copies. */
    static final double BYTES_PER_PIXEL = 4.0 * 8;
    /** Bytes per pass independent of its size: buffers of the weights' shapes, libtorch's row chunks. */
    static final long FIXED_BYTES = 16L << 20;

    private MemoryEstimate() {}

    /** Estimated peak bytes of one pass over nb images of h x w (padded to a multiple of 8). */
    public static long passBytes(ModelConfig c, int nb, int h, int w) {
        double pixels = (double) nb * Padding.roundUp(h, Restorer.MULTIPLE) * Padding.roundUp(w, Restorer.MULTIPLE);
        double perPixel = BYTES_PER_PIXEL_PER_DIM * c.dim() + BYTES_PER_PIXEL * (c.inpChannels() + c.outChannels());
        return FIXED_BYTES + (long) Math.ceil(pixels * perPixel);
    }

    /**
     * The default budget: 3/4 of the JVM's maximum heap (where the activations live), and at most
     * half of the machine's physical memory (as the JVM sees it, so a container's limit counts).
     */
    public static long defaultBudget() {
        long heap = Runtime.getRuntime().maxMemory();
        long budget = heap == Long.MAX_VALUE ? Long.MAX_VALUE : heap / 4 * 3;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long physical = os.getTotalMemorySize();
            if (physical > 0) {
                budget = Math.min(budget, physical / 2);
            }
        }
        return budget;
    }
}
