package org.restorerwkv.wkv;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-JVM entry of {@code BiWkvTest.runsWithoutTheVectorModule}: started without
 * {@code --add-modules jdk.incubator.vector}, it runs the public fused kernel on
 * {@link #inputs()} and writes y (big-endian floats) to the file named by its argument.
 */
public final class NoVectorModuleMain {

    static final int B = 2;
    static final int H = 9;
    static final int W = 13;
    static final int C = 11;

    /** w, u, k, v from a fixed seed. */
    static float[][] inputs() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(17);
        float[][] a = {new float[C], new float[C], new float[B * H * W * C], new float[B * H * W * C]};
        for (float[] x : a) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextDouble() * 2 - 1);
            }
        }
        return a;
    }

    public static void main(String[] args) throws IOException {
        if (VectorSupport.AVAILABLE) {
            throw new IllegalStateException("started with the vector module: this run would not test the fallback");
        }
        float[][] in = inputs();
        float[] y = new float[in[2].length];
        BiWkv.fused(in[0], in[1], in[2], in[3], y, B, H, W, C, true);
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
            for (float f : y) {
                out.writeFloat(f);
            }
        }
    }
}
