package org.restorerwkv.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;

/**
 * The reference's evaluation protocol for a model on a split: each full LQ slice is normalized,
 * reflect-padded to a multiple of 8, restored, cropped back, mapped back to physical units and
 * compared with its HQ slice by {@link Evaluation#evaluateNormalized} (truncation window,
 * data_range of the truncated ground truth); metrics are averaged per modality.
 */
public final class SplitEvaluator {

    private SplitEvaluator() {}

    /** Metrics over the given slice indices of a dataset (validation during training). */
    public static MetricAccumulator evaluate(Restorer restorer, PairedDataset dataset, List<Integer> sliceIndices)
            throws IOException {
        MetricAccumulator acc = new MetricAccumulator();
        for (int i : sliceIndices) {
            PairedDataset.SlicePair s = dataset.slice(i);
            float[] pred = restorer.restoreBatch(s.lq(), 1, s.height(), s.width());
            acc.add(s.name(), s.modality(), Evaluation.evaluateNormalized(s.modality(), pred, s.hq(), s.height(), s.width(), s.scale()));
        }
        return acc;
    }

    /**
     * Metrics of the degraded input itself (each LQ slice against its HQ slice), with the same
     * protocol: what a restoration has to improve on.
     */
    public static MetricAccumulator evaluateInput(PairedDataset dataset) throws IOException {
        MetricAccumulator acc = new MetricAccumulator();
        for (int i = 0; i < dataset.size(); i++) {
            PairedDataset.SlicePair s = dataset.slice(i);
            acc.add(s.name(), s.modality(), Evaluation.evaluateNormalized(s.modality(), s.lq(), s.hq(), s.height(), s.width(), s.scale()));
        }
        return acc;
    }

    /**
     * Metrics over every slice of a dataset. With {@code outDir}, each restored file is saved in
     * physical units as {@code outDir/MOD/<name>.nii.gz} with the degraded input's geometry, and the per-slice
     * metrics with the per-modality means as {@code outDir/metrics.csv}.
     */
    public static MetricAccumulator evaluateAll(Restorer restorer, PairedDataset dataset, Path outDir) throws IOException {
        MetricAccumulator acc = new MetricAccumulator();
        List<PairedDataset.FilePair> pairs = dataset.pairs();
        for (int p = 0; p < pairs.size(); p++) {
            PairedDataset.FilePair fp = pairs.get(p);
            Modality m = fp.modality();
            int area = fp.height() * fp.width();
            float[] restored = new float[fp.depth() * area];
            List<Integer> slices = dataset.slicesOfPair(p);
            for (int k = 0; k < slices.size(); k++) {
                PairedDataset.SlicePair s = dataset.slice(slices.get(k));
                float[] pred = restorer.restoreBatch(s.lq(), 1, s.height(), s.width());
                acc.add(s.name(), m, Evaluation.evaluateNormalized(m, pred, s.hq(), s.height(), s.width(), s.scale()));
                System.arraycopy(m.denormalize(pred, s.scale()), 0, restored, k * area, area);
            }
            if (outDir != null) {
                Path file = outDir.resolve(m.folderName()).resolve(outputName(fp.name()));
                // the degraded input's geometry (affine, spacing, NIfTI header) goes with the restored voxels
                VolumeFormats.write(file, VolumeFormats.read(fp.lq()).withVoxels(restored));
            }
        }
        if (outDir != null) {
            acc.writeCsv(outDir.resolve("metrics.csv"));
        }
        return acc;
    }

    /** An input file name with its image extension replaced by ".nii.gz". */
    static String outputName(String name) {
        return VolumeFormats.stem(name) + ".nii.gz";
    }

    /** {@code count} indices evenly spaced over [0, n) (all of them when count is 0 or >= n). */
    public static List<Integer> evenlySpaced(int n, int count) {
        List<Integer> out = new ArrayList<>();
        if (count <= 0 || count >= n) {
            for (int i = 0; i < n; i++) {
                out.add(i);
            }
            return out;
        }
        for (int k = 0; k < count; k++) {
            out.add((int) ((long) k * n / count));
        }
        return out;
    }
}
