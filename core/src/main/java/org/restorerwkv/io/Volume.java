package org.restorerwkv.io;

import org.restorerwkv.io.dicom.DicomDataset;

import java.util.Arrays;
import java.util.List;

/**
 * A scalar image volume: float32 voxels in C order with shape (depth, height, width), a 2-D image
 * being depth 1, together with its geometry and the source metadata needed to write it back.
 *
 * <p>Geometry convention: {@code affine} is a 4x4 matrix, row-major, 16 values, mapping the voxel
 * index (i = column along width, j = row along height, k = slice along depth, 1) to world
 * coordinates in millimetres in <b>RAS+</b> (x grows towards the patient's Right, y Anterior, z
 * Superior), the NIfTI world convention. DICOM patient coordinates (LPS+) are
 * converted on read by negating the first two rows, and back on write.
 *
 * <p>{@code spacing} is (z, y, x) in mm: slice spacing, row spacing, column spacing.
 *
 * <p>{@code nifti} is the header of the NIfTI file the volume came from, or null; {@code dicom} the
 * dataset of each slice (index k) of the DICOM series it came from (all non-pixel elements; one
 * dataset for a multi-frame file), or an empty list. Arrays are not copied: treat a Volume as immutable and use {@link #withVoxels}.
 */
public record Volume(int depth, int height, int width, float[] voxels, double[] spacing, double[] affine,
        NiftiHeader nifti, List<DicomDataset> dicom) {

    public Volume {
        if (depth < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("volume dimensions must be positive: " + depth + "x" + height + "x" + width);
        }
        if ((long) depth * height * width != voxels.length) {
            throw new IllegalArgumentException("shape " + depth + "x" + height + "x" + width
                    + " holds " + (long) depth * height * width + " voxels, data has " + voxels.length);
        }
        if (spacing.length != 3 || affine.length != 16) {
            throw new IllegalArgumentException("spacing needs 3 values and affine 16");
        }
        dicom = dicom == null ? List.of() : List.copyOf(dicom);
    }

    /** A volume with no source metadata and an axis-aligned affine diag(sx, sy, sz) at the origin. */
    public static Volume of(int depth, int height, int width, float[] voxels, double[] spacing) {
        return new Volume(depth, height, width, voxels, spacing.clone(), diagonalAffine(spacing), null, List.of());
    }

    /** Unit spacing, identity affine. */
    public static Volume of(int depth, int height, int width, float[] voxels) {
        return of(depth, height, width, voxels, new double[] {1, 1, 1});
    }

    /** A (H, W) or (D, H, W) tensor (leading axes of size 1 are dropped) as a volume with unit spacing. */
    public static Volume of(HostTensor t) {
        long[] s = t.shape();
        int lead = 0;
        while (s.length - lead > 3 && s[lead] == 1) {
            lead++;
        }
        int r = s.length - lead;
        if (r < 2 || r > 3) {
            throw new IllegalArgumentException("a volume needs a 2-D or 3-D array, got shape " + t.shapeString());
        }
        int d = r == 3 ? (int) s[lead] : 1;
        return of(d, (int) s[s.length - 2], (int) s[s.length - 1], t.data());
    }

    /** Row-major 4x4 diag(sx, sy, sz, 1) for spacing (z, y, x). */
    public static double[] diagonalAffine(double[] spacing) {
        double[] a = new double[16];
        a[0] = spacing[2];
        a[5] = spacing[1];
        a[10] = spacing[0];
        a[15] = 1;
        return a;
    }

    /** Number of voxels in one slice. */
    public int sliceSize() {
        return height * width;
    }

    /** A copy of slice k (row-major, height x width). */
    public float[] slice(int k) {
        if (k < 0 || k >= depth) {
            throw new IndexOutOfBoundsException("slice " + k + " of " + depth);
        }
        return Arrays.copyOfRange(voxels, k * sliceSize(), (k + 1) * sliceSize());
    }

    public float get(int k, int j, int i) {
        return voxels[(k * height + j) * width + i];
    }

    /** Same geometry and metadata, new voxel values (same count). */
    public Volume withVoxels(float[] newVoxels) {
        return new Volume(depth, height, width, newVoxels, spacing, affine, nifti, dicom);
    }

    /**
     * The same field of view sampled on a new grid (e.g. after super-resolution): spacing scales by
     * old/new size per axis and the origin moves so that the outer voxel edges stay in place.
     * Source metadata is kept; writers re-derive what depends on the grid.
     */
    public Volume withGrid(int newDepth, int newHeight, int newWidth, float[] newVoxels) {
        double[] f = {(double) width / newWidth, (double) height / newHeight, (double) depth / newDepth};
        double[] a = affine.clone();
        for (int r = 0; r < 3; r++) {
            double shift = 0;
            for (int c = 0; c < 3; c++) {
                a[4 * r + c] = affine[4 * r + c] * f[c];
                shift += 0.5 * (a[4 * r + c] - affine[4 * r + c]); // keep the edge at index -0.5
            }
            a[4 * r + 3] = affine[4 * r + 3] + shift;
        }
        double[] sp = {spacing[0] * f[2], spacing[1] * f[1], spacing[2] * f[0]};
        return new Volume(newDepth, newHeight, newWidth, newVoxels, sp, a, nifti, dicom);
    }

    /**
     * The same voxels stacked as slices along {@code axis} ({@link Reslice#shape}: 0 = this volume,
     * 1 = one slice per row, 2 = one slice per column), with spacing and affine permuted to match, so
     * every voxel keeps its world position. Source metadata is dropped: it describes the stored slices.
     */
    public Volume resliced(int axis) {
        int[] s = Reslice.shape(depth, height, width, axis);
        if (axis == 0) {
            return this;
        }
        // new (i', j', k') = axis 1: (i, k, j); axis 2: (j, k, i). Affine columns 0, 1, 2 go with i, j, k,
        // spacing is (k, j, i).
        int[] fromColumn = axis == 1 ? new int[] {0, 2, 1} : new int[] {1, 2, 0};
        double[] a = affine.clone();
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) {
                a[4 * r + c] = affine[4 * r + fromColumn[c]];
            }
        }
        double[] sp = new double[3];
        for (int c = 0; c < 3; c++) {
            sp[2 - c] = spacing[2 - fromColumn[c]];
        }
        return new Volume(s[0], s[1], s[2], Reslice.forward(voxels, depth, height, width, axis), sp, a, null,
                List.of());
    }

    /** The voxels as a (D, H, W) tensor sharing the array. */
    public HostTensor toHostTensor() {
        return new HostTensor(new long[] {depth, height, width}, voxels);
    }

    /** World position (RAS, mm) of voxel index (i, j, k). */
    public double[] worldOf(double i, double j, double k) {
        double[] p = new double[3];
        for (int r = 0; r < 3; r++) {
            p[r] = affine[4 * r] * i + affine[4 * r + 1] * j + affine[4 * r + 2] * k + affine[4 * r + 3];
        }
        return p;
    }

    @Override
    public String toString() {
        return "Volume[" + depth + "x" + height + "x" + width + ", spacing(z,y,x)=" + Arrays.toString(spacing) + "]";
    }
}
