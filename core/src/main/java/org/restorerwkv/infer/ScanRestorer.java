package org.restorerwkv.infer;

import java.util.Locale;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.dicom.DicomDataset;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Reslice;
import org.restorerwkv.io.Volume;

/**
 * Restores whole scans in physical units: normalizes by modality, restores slice by slice along a
 * chosen axis in batches (tiled above the tile size), maps back, and keeps the input's geometry and
 * metadata.
 */
public final class ScanRestorer {

    private final Restorer restorer;
    private final IntensityScaling scaling;

    /**
     * Scans normalized with {@code scaling}, the policy the model was trained with
     * ({@code Weights.scalingOf}); a wrong one gives wrong results without an error, which is why
     * library users should load models through {@code api.RestorationModel}.
     */
    public ScanRestorer(Restorer restorer, IntensityScaling scaling) {
        this.restorer = restorer;
        this.scaling = scaling;
    }

    /**
     * A restoration and how many voxels were passed through: those outside the modality's
     * normalization range keep their input value (the network saw them clipped, as the reference
     * does, and its output there is clipped too, so it would erase metal at 4000 HU or a 40 SUV hot
     * spot).
     */
    public record Restored<T>(T result, long passedThrough) {}

    /** A volume restored along {@code axis} (0 = stored slices); same shape, geometry, metadata. */
    public Volume restore(Volume v, Modality modality, int axis, RestoreListener listener) {
        return restoreCounted(v, modality, axis, listener).result();
    }

    /** {@link #restore(Volume, Modality, int, RestoreListener)} with the count of passed-through voxels. */
    public Restored<Volume> restoreCounted(Volume v, Modality modality, int axis, RestoreListener listener) {
        int[] s = Reslice.shape(v.depth(), v.height(), v.width(), axis);
        float[] slices = Reslice.forward(v.voxels(), v.depth(), v.height(), v.width(), axis);
        double f = scaling.factor(modality, slices);
        HostTensor x = new HostTensor(new long[] {s[0], s[1], s[2]}, modality.normalize(slices, f));
        float[] y = modality.denormalize(restorer.restore(x, listener).data(), f);
        long kept = passThrough(slices, y, modality, f);
        return new Restored<>(v.withVoxels(Reslice.backward(y, v.depth(), v.height(), v.width(), axis)), kept);
    }

    /** A raw array ((H,W), (D,H,W) or (N,C,H,W)) restored with its shape kept. */
    public HostTensor restore(HostTensor t, Modality modality, RestoreListener listener) {
        return restoreCounted(t, modality, listener).result();
    }

    /** {@link #restore(HostTensor, Modality, RestoreListener)} with the count of passed-through voxels. */
    public Restored<HostTensor> restoreCounted(HostTensor t, Modality modality, RestoreListener listener) {
        double f = scaling.factor(modality, t.data());
        HostTensor x = new HostTensor(t.shape(), modality.normalize(t.data(), f));
        float[] y = modality.denormalize(restorer.restore(x, listener).data(), f);
        long kept = passThrough(t.data(), y, modality, f);
        return new Restored<>(new HostTensor(t.shape(), y), kept);
    }

    /** Puts the input value back wherever it lies outside the normalization range; returns how many. */
    private static long passThrough(float[] in, float[] out, Modality m, double factor) {
        if (m.isIdentity()) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < in.length; i++) {
            double x = in[i] * factor; // the value normalize() compared with the range
            if (x < m.normLow() || x > m.normHigh()) {
                out[i] = in[i];
                n++;
            }
        }
        return n;
    }

    /** Slices {@link #restore(Volume, Modality, int, RestoreListener)} will run for a volume. */
    public static int sliceCount(Volume v, int axis) {
        return Reslice.shape(v.depth(), v.height(), v.width(), axis)[0];
    }

    /**
     * The modality to restore {@code v} (read from {@code in}; null for a raw array) with: {@code option}
     * (ct, mri, pet, none), or for {@code auto} the one its DICOM Modality tag declares.
     *
     * @throws org.restorerwkv.io.InvalidInputException naming {@code in} when auto finds no tag
     */
    public static Modality modalityOf(String option, Volume v, java.nio.file.Path in)
            throws org.restorerwkv.io.InvalidInputException {
        if (!option.equalsIgnoreCase("auto")) {
            return Modality.parse(option);
        }
        Modality declared = v == null ? null : declaredModality(v);
        if (declared == null) {
            throw new org.restorerwkv.io.InvalidInputException(in,
                    "modality unknown (no DICOM Modality tag): give --modality ct|mri|pet|none");
        }
        return declared;
    }

    /** The modality a DICOM volume declares in (0008,0060), or null. */
    public static Modality declaredModality(Volume v) {
        if (v.dicom() == null || v.dicom().isEmpty()) {
            return null;
        }
        DicomDataset first = v.dicom().get(0);
        String m = first.string(0x00080060);
        if (m == null) {
            return null;
        }
        return switch (m.trim().toUpperCase(Locale.ROOT)) {
            case "CT" -> Modality.CT;
            case "MR" -> Modality.MRI;
            case "PT" -> Modality.PET;
            default -> null;
        };
    }
}
