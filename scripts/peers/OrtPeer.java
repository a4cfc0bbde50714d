import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * ONNX Runtime side of scripts/peers.sh: times one exported network through ONNX Runtime's Java API
 * and checks its output against PyTorch's (the export is only a peer if it computes the same thing).
 * Run as a single-file program: {@code java -cp onnxruntime.jar OrtPeer.java MODEL IN OUT CONFIG SIZE THREADS WARMUP REPEAT}.
 * Prints one JSON line.
 */
public class OrtPeer {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        float[] in = readF32(Path.of(args[1]));
        float[] expected = readF32(Path.of(args[2]));
        String config = args[3];
        int size = Integer.parseInt(args[4]), threads = Integer.parseInt(args[5]);
        int warmup = Integer.parseInt(args[6]), repeat = Integer.parseInt(args[7]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // the export leaves height and width free; fixed here, ONNX Runtime optimizes for this size
            so.setSymbolicDimensionValue("height", size);
            so.setSymbolicDimensionValue("width", size);
            try (OrtSession session = env.createSession(model.toString(), so);
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(in), new long[] {1, 1, size, size})) {
                float[] out = null;
                double[] ts = new double[repeat];
                for (int i = 0; i < warmup + repeat; i++) {
                    long t0 = System.nanoTime();
                    try (OrtSession.Result r = session.run(Map.of("input", x))) {
                        if (i == warmup + repeat - 1) {
                            out = ((OnnxTensor) r.get(0)).getFloatBuffer().array();
                        }
                    }
                    if (i >= warmup) {
                        ts[i - warmup] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                double maxAbs = 0;
                for (int i = 0; i < expected.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(out[i] - expected[i]));
                }
                Arrays.sort(ts);
                long rssKb = Files.readAllLines(Path.of("/proc/self/status")).stream()
                        .filter(l -> l.startsWith("VmHWM:")).map(l -> Long.parseLong(l.replaceAll("\\D", "")))
                        .findFirst().orElse(0L);
                System.out.printf("{\"peer\": \"onnxruntime\", \"version\": \"%s\", \"config\": \"%s\", \"mode\": \"infer\", \"size\": %d, \"median_s\": %.6f,"
                                + " \"min_s\": %.6f, \"max_abs_diff_vs_pytorch\": %.3g, \"peak_rss_mb\": %.1f}%n",
                        env.getVersion(), config, size, repeat % 2 == 1 ? ts[repeat / 2] : (ts[repeat / 2 - 1] + ts[repeat / 2]) / 2, ts[0], maxAbs, rssKb / 1024.0);
            }
        }
    }

    private static float[] readF32(Path p) throws IOException {
        FloatBuffer fb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }
}
