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

    /** A volume restored along {@code axis} (0 = stored slices); same shape, geometry, metadata. */
    public Volume restore(Volume v, Modality modality, int axis, RestoreListener listener) {
        int[] s = Reslice.shape(v.depth(), v.height(), v.width(), axis);
        float[] slices = Reslice.forward(v.voxels(), v.depth(), v.height(), v.width(), axis);
        double f = scaling.factor(modality, slices);
        HostTensor x = new HostTensor(new long[] {s[0], s[1], s[2]}, modality.normalize(slices, f));
        float[] y = modality.denormalize(restorer.restore(x, listener).data(), f);
        return v.withVoxels(Reslice.backward(y, v.depth(), v.height(), v.width(), axis));
    }

    /** A raw array ((H,W), (D,H,W) or (N,C,H,W)) restored with its shape kept. */
    public HostTensor restore(HostTensor t, Modality modality, RestoreListener listener) {
        double f = scaling.factor(modality, t.data());
        HostTensor x = new HostTensor(t.shape(), modality.normalize(t.data(), f));
        return new HostTensor(t.shape(), modality.denormalize(restorer.restore(x, listener).data(), f));
    }

    /** Slices {@link #restore(Volume, Modality, int, RestoreListener)} will run for a volume. */
    public static int sliceCount(Volume v, int axis) {
        return Reslice.shape(v.depth(), v.height(), v.width(), axis)[0];
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
