package org.restorerwkv.io;

/** Small 4x4 / 3x3 affine helpers for voxel-to-world matrices (row-major double[16]). */
public final class AffineMath {

    private AffineMath() {}

    /** Column c (0..2) of the 3x3 part. */
    public static double[] column(double[] a, int c) {
        return new double[] {a[c], a[4 + c], a[8 + c]};
    }

    public static double norm(double[] v) {
        return Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    }

    public static double[] cross(double[] u, double[] v) {
        return new double[] {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    }

    public static double dot(double[] u, double[] v) {
        return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    }

    /** RAS+ &lt;-&gt; LPS+ (its own inverse): negate the first two world rows. */
    public static double[] flipXY(double[] a) {
        double[] m = a.clone();
        for (int c = 0; c < 4; c++) {
            m[c] = -m[c];
            m[4 + c] = -m[4 + c];
        }
        return m;
    }

    /**
     * NIfTI qform parameters of an affine, after nifti_mat44_to_quatern: the 3x3 part is split into
     * column lengths (dx, dy, dz), a proper rotation (nearest orthogonal matrix by polar
     * decomposition) and qfac = -1 when the handedness is negative.
     *
     * @return {b, c, d, qoffset_x, qoffset_y, qoffset_z, qfac, dx, dy, dz}
     */
    public static double[] toQuaternion(double[] a) {
        double[][] r = new double[3][3];
        double[] len = new double[3];
        for (int c = 0; c < 3; c++) {
            double[] col = column(a, c);
            len[c] = norm(col);
            if (len[c] == 0) {
                len[c] = 1;
                col = new double[3];
                col[c] = 1;
            } else {
                for (int i = 0; i < 3; i++) {
                    col[i] /= len[c];
                }
            }
            for (int i = 0; i < 3; i++) {
                r[i][c] = col[i];
            }
        }
        r = polar(r);
        double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1])
                - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
                + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
        double qfac = 1;
        if (det < 0) {
            qfac = -1;
            for (int i = 0; i < 3; i++) {
                r[i][2] = -r[i][2];
            }
        }
        double qa = r[0][0] + r[1][1] + r[2][2] + 1;
        double qb;
        double qc;
        double qd;
        if (qa > 0.5) {
            qa = 0.5 * Math.sqrt(qa);
            qb = 0.25 * (r[2][1] - r[1][2]) / qa;
            qc = 0.25 * (r[0][2] - r[2][0]) / qa;
            qd = 0.25 * (r[1][0] - r[0][1]) / qa;
        } else {
            double xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
            double yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
            double zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
            if (xd > 1) {
                qb = 0.5 * Math.sqrt(xd);
                qc = 0.25 * (r[0][1] + r[1][0]) / qb;
                qd = 0.25 * (r[0][2] + r[2][0]) / qb;
                qa = 0.25 * (r[2][1] - r[1][2]) / qb;
            } else if (yd > 1) {
                qc = 0.5 * Math.sqrt(yd);
                qb = 0.25 * (r[0][1] + r[1][0]) / qc;
                qd = 0.25 * (r[1][2] + r[2][1]) / qc;
                qa = 0.25 * (r[0][2] - r[2][0]) / qc;
            } else {
                qd = 0.5 * Math.sqrt(zd);
                qb = 0.25 * (r[0][2] + r[2][0]) / qd;
                qc = 0.25 * (r[1][2] + r[2][1]) / qd;
                qa = 0.25 * (r[1][0] - r[0][1]) / qd;
            }
            if (qa < 0) {
                qb = -qb;
                qc = -qc;
                qd = -qd;
            }
        }
        return new double[] {qb, qc, qd, a[3], a[7], a[11], qfac, len[0], len[1], len[2]};
    }

    /** Nearest orthogonal matrix: iterate X = (X + X^-T) / 2 until it settles. */
    private static double[][] polar(double[][] m) {
        double[][] x = m;
        for (int it = 0; it < 100; it++) {
            double[][] inv = inverse3(x);
            if (inv == null) {
                return x;
            }
            double[][] next = new double[3][3];
            double diff = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    next[i][j] = 0.5 * (x[i][j] + inv[j][i]);
                    diff += Math.abs(next[i][j] - x[i][j]);
                }
            }
            x = next;
            if (diff < 1e-15) {
                break;
            }
        }
        return x;
    }

    private static double[][] inverse3(double[][] m) {
        double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        if (Math.abs(det) < 1e-300) {
            return null;
        }
        double[][] r = new double[3][3];
        r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
        r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
        r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
        r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
        r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
        r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
        r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
        r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
        r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
        return r;
    }
}
