package org.restorerwkv.io;

import java.nio.ByteOrder;
import java.util.List;

/**
 * Every field of a NIfTI-1 or NIfTI-2 header (NIfTI-2 widths; NIfTI-1 values are widened), plus
 * the header extensions, so that a volume read from NIfTI can be written back faithfully.
 *
 * @param version 1 or 2
 * @param order byte order of the source file
 * @param dim dim[0..7]
 * @param pixdim pixdim[0..7]; pixdim[0] is qfac (-1 or 1)
 * @param srow sform rows x, y, z, 4 values each (12 values)
 * @param extensions header extensions (ecode, payload without the 8-byte esize/ecode prefix)
 */
public record NiftiHeader(int version, ByteOrder order, long[] dim, double[] pixdim, int datatype, int bitpix,
        long voxOffset, double sclSlope, double sclInter, int intentCode, double[] intentP, String intentName,
        long sliceStart, long sliceEnd, int sliceCode, int dimInfo, int xyztUnits, double calMax, double calMin,
        double sliceDuration, double toffset, String descrip, String auxFile, int qformCode, int sformCode,
        double quaternB, double quaternC, double quaternD, double qoffsetX, double qoffsetY, double qoffsetZ,
        double[] srow, List<Extension> extensions) {

    /** One NIfTI header extension. */
    public record Extension(int code, byte[] data) {}

    public NiftiHeader {
        extensions = extensions == null ? List.of() : List.copyOf(extensions);
    }

    /** Spatial dims (nx, ny, nz) with unused ones as 1. */
    public long[] spatialDims() {
        long[] d = new long[3];
        for (int a = 0; a < 3; a++) {
            d[a] = dim[0] > a && dim[a + 1] > 0 ? dim[a + 1] : 1;
        }
        return d;
    }

    /** qform rotation + scaling + offset as a row-major 4x4 (NIfTI method 2), RAS+ mm. */
    public double[] qformAffine() {
        double b = quaternB;
        double c = quaternC;
        double d = quaternD;
        double a = 1.0 - (b * b + c * c + d * d);
        if (a < 1e-7) {
            // b,c,d describe a 180 degree rotation: renormalise as nifti_quatern_to_mat44 does
            a = 1.0 / Math.sqrt(b * b + c * c + d * d);
            b *= a;
            c *= a;
            d *= a;
            a = 0;
        } else {
            a = Math.sqrt(a);
        }
        double dx = pixdim[1] > 0 ? pixdim[1] : 1;
        double dy = pixdim[2] > 0 ? pixdim[2] : 1;
        double dz = pixdim[3] > 0 ? pixdim[3] : 1;
        double qfac = pixdim[0] < 0 ? -1 : 1;
        dz *= qfac;
        return new double[] {
            (a * a + b * b - c * c - d * d) * dx, 2 * (b * c - a * d) * dy, 2 * (b * d + a * c) * dz, qoffsetX,
            2 * (b * c + a * d) * dx, (a * a + c * c - b * b - d * d) * dy, 2 * (c * d - a * b) * dz, qoffsetY,
            2 * (b * d - a * c) * dx, 2 * (c * d + a * b) * dy, (a * a + d * d - c * c - b * b) * dz, qoffsetZ,
            0, 0, 0, 1};
    }

    /** sform as a row-major 4x4. */
    public double[] sformAffine() {
        double[] m = new double[16];
        System.arraycopy(srow, 0, m, 0, 12);
        m[15] = 1;
        return m;
    }

    /** The voxel-to-world affine NIfTI readers use: sform if set, else qform if set, else pixdim scaling. */
    public double[] affine() {
        if (sformCode > 0) {
            return sformAffine();
        }
        if (qformCode > 0) {
            return qformAffine();
        }
        double[] m = new double[16];
        m[0] = pixdim[1] > 0 ? pixdim[1] : 1;
        m[5] = pixdim[2] > 0 ? pixdim[2] : 1;
        m[10] = pixdim[3] > 0 ? pixdim[3] : 1;
        m[15] = 1;
        return m;
    }
}
