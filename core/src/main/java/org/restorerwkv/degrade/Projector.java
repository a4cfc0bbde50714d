package org.restorerwkv.degrade;

import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Line integrals through a slice and their inversion, for one scan geometry.
 *
 * <p>Image coordinates: the slice is centred on the isocentre, x runs along columns, y up along
 * rows (row 0 at the top), pixels are square with side {@code pixelMm}. Views are equally spaced
 * over {@link BeamGeometry#arcRadians()} starting at angle 0; detector bins are equally spaced,
 * symmetric about the central ray, at spacing {@code binMm} on the virtual detector through the
 * isocentre.
 *
 * <p>{@link #forward} is Joseph's ray-driven method (linear interpolation between the two pixels a
 * ray passes between, one step per column or row, whichever the ray is closer to), and
 * {@link #adjoint} its exact transpose, as iterative reconstruction needs. {@link #fbp} is the
 * analytic inverse: ramp filter plus pixel-driven back-projection in the same geometry (fan beam:
 * weighted FBP for equally spaced collinear detectors after Kak and Slaney ch. 3, no rebinning).
 *
 * <p>Immutable; every method allocates its own buffers, so one instance may be shared by threads.
 */
final class Projector {

    /** Largest sinogram accepted, in values (2 GiB of doubles): guards against typos in views/bins. */
    static final long MAX_SINOGRAM = 1L << 28;

    private final int height;
    private final int width;
    private final double pixelMm;
    private final BeamGeometry geometry;
    private final int views;
    private final int bins;
    private final double binMm;
    private final double[] cos;
    private final double[] sin;

    /**
     * @param views number of projection angles over the geometry's arc
     * @param binMm detector spacing at the isocentre, mm
     * @param bins number of detector bins, or 0 for the fewest that cover the slice's circumscribed
     *     circle
     */
    public Projector(int height, int width, double pixelMm, BeamGeometry geometry, int views,
            double binMm, int bins) {
        this.height = Slices.requirePositive("height", height);
        this.width = Slices.requirePositive("width", width);
        this.pixelMm = Slices.requirePositive("pixel spacing (mm)", pixelMm);
        this.geometry = java.util.Objects.requireNonNull(geometry, "geometry");
        this.views = Slices.requirePositive("views", views);
        this.binMm = Slices.requirePositive("detector spacing (mm)", binMm);
        // radius of the circle through the outer corners of the slice
        double radius = 0.5 * Math.hypot(height, width) * pixelMm;
        double halfSpan = radius;
        if (geometry instanceof BeamGeometry.Fan fan) {
            double d = fan.sourceToIsoMm();
            if (radius >= d) {
                throw new IllegalArgumentException("slice radius " + radius
                        + " mm reaches the source at " + d + " mm from the isocentre");
            }
            // a circle of radius R seen from distance D spans D R / sqrt(D^2 - R^2) on the virtual detector
            halfSpan = d * radius / Math.sqrt(d * d - radius * radius);
        }
        if (bins < 0) {
            throw new IllegalArgumentException("detector bins must be >= 0 (0 = automatic), got " + bins);
        }
        double autoBins = 2 * Math.ceil(halfSpan / binMm) + 2;
        if ((bins > 0 ? bins : autoBins) * views > MAX_SINOGRAM) {
            throw new IllegalArgumentException("sinogram of " + views + " views x "
                    + (bins > 0 ? bins : (long) autoBins) + " bins exceeds " + MAX_SINOGRAM + " values");
        }
        this.bins = bins > 0 ? bins : (int) autoBins;
        this.cos = new double[views];
        this.sin = new double[views];
        for (int v = 0; v < views; v++) {
            double a = geometry.arcRadians() * v / views;
            cos[v] = Math.cos(a);
            sin[v] = Math.sin(a);
        }
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int views() {
        return views;
    }

    public int bins() {
        return bins;
    }

    public double binMm() {
        return binMm;
    }

    public BeamGeometry geometry() {
        return geometry;
    }

    /** Position of bin b on the virtual detector, mm from the central ray. */
    double binPosition(int b) {
        return (b - 0.5 * (bins - 1)) * binMm;
    }

    /**
     * Line integrals of {@code image} (per mm) along every ray: a sinogram {@code [views][bins]},
     * dimensionless when the image holds attenuation in 1/mm.
     */
    public double[] forward(double[] image) {
        return forward(image, 0, 1);
    }

    /**
     * {@link #forward} for the views {@code v} with {@code v % subsets == subset} (an ordered
     * subset); the other views are left 0.
     */
    public double[] forward(double[] image, int subset, int subsets) {
        checkImage(image);
        checkSubset(subset, subsets);
        double[] sino = new double[views * bins];
        double[] ray = new double[4];
        for (int v = subset; v < views; v += subsets) {
            for (int b = 0; b < bins; b++) {
                ray(v, b, ray);
                sino[v * bins + b] = joseph(image, ray, null, 0);
            }
        }
        return sino;
    }

    /** Transpose of {@link #forward}: spreads each sinogram value back along its ray. */
    public double[] adjoint(double[] sinogram) {
        return adjoint(sinogram, 0, 1);
    }

    /** Transpose of {@link #forward(double[], int, int)}: only the subset's views are used. */
    public double[] adjoint(double[] sinogram, int subset, int subsets) {
        checkSinogram(sinogram);
        checkSubset(subset, subsets);
        double[] image = new double[height * width];
        double[] ray = new double[4];
        for (int v = subset; v < views; v += subsets) {
            for (int b = 0; b < bins; b++) {
                double s = sinogram[v * bins + b];
                if (s != 0) {
                    ray(v, b, ray);
                    joseph(null, ray, image, s);
                }
            }
        }
        return image;
    }

    /**
     * Filtered back-projection: the image whose line integrals are {@code sinogram}, in the
     * sinogram's unit per mm.
     *
     * @param cutoff spatial frequency (cycles/mm) where the filter ends: the window runs from 0
     *     to it and the filter is zero above; values at or above the detector's Nyquist frequency
     *     1 / (2 binMm), or 0, mean the Nyquist frequency
     */
    public double[] fbp(double[] sinogram, Apodization apodization, double cutoff) {
        checkSinogram(sinogram);
        double[] q = sinogram.clone();
        boolean fan = geometry instanceof BeamGeometry.Fan;
        double dSource = fan ? ((BeamGeometry.Fan) geometry).sourceToIsoMm() : 0;
        if (fan) {
            // cosine pre-weighting of the divergent rays
            for (int b = 0; b < bins; b++) {
                double s = binPosition(b);
                double wgt = dSource / Math.sqrt(dSource * dSource + s * s);
                for (int v = 0; v < views; v++) {
                    q[v * bins + b] *= wgt;
                }
            }
        }
        rampFilter(q, apodization, cutoff);
        // d(angle); the fan full scan sees every ray twice, hence the 1/2
        double dAngle = geometry.arcRadians() / views * (fan ? 0.5 : 1.0);
        double[] image = new double[height * width];
        double c0 = 0.5 * (width - 1);
        double r0 = 0.5 * (height - 1);
        double centreBin = 0.5 * (bins - 1);
        for (int v = 0; v < views; v++) {
            int off = v * bins;
            double cs = cos[v];
            double sn = sin[v];
            for (int i = 0; i < height; i++) {
                double y = (r0 - i) * pixelMm;
                for (int j = 0; j < width; j++) {
                    double x = (j - c0) * pixelMm;
                    double pos;
                    double weight;
                    if (fan) {
                        // source at D (cos, sin); virtual detector along (-sin, cos)
                        double toSource = dSource - (x * cs + y * sn);
                        double u = toSource / dSource;
                        pos = dSource * (-x * sn + y * cs) / toSource;
                        weight = dAngle / (u * u);
                    } else {
                        pos = x * cs + y * sn;
                        weight = dAngle;
                    }
                    double fb = pos / binMm + centreBin;
                    int b0 = (int) Math.floor(fb);
                    if (b0 < -1 || b0 >= bins) {
                        continue;
                    }
                    double f = fb - b0;
                    double val = 0;
                    if (b0 >= 0) {
                        val += (1 - f) * q[off + b0];
                    }
                    if (b0 + 1 < bins) {
                        val += f * q[off + b0 + 1];
                    }
                    image[i * width + j] += weight * val;
                }
            }
        }
        return image;
    }

    /**
     * Convolves every view with the band-limited ramp sampled in space (Kak and Slaney ch. 3:
     * h(0) = 1/(4 tau^2), h(odd n) = -1/(n pi tau)^2, h(even n) = 0), which avoids the DC offset of
     * sampling |f| directly; zero-padded to a power of two >= 2 bins so the circular convolution
     * of the FFT does not wrap.
     */
    private void rampFilter(double[] sino, Apodization apodization, double cutoff) {
        if (!(cutoff >= 0) || !Double.isFinite(cutoff)) {
            throw new IllegalArgumentException("filter cutoff must be finite and >= 0, got " + cutoff);
        }
        int n = Fft.nextPowerOfTwo(2 * bins);
        double tau = binMm;
        double nyquist = 0.5 / tau;
        // cutoff as a fraction of Nyquist; frequency of index k is k / (n tau), i.e. 2k/n of Nyquist
        double fc = cutoff == 0 ? 1.0 : Math.min(1.0, cutoff / nyquist);
        double[] h = new double[n];
        h[0] = 1 / (4 * tau * tau);
        for (int k = 1; k <= n / 2; k += 2) {
            double val = -1 / (Math.PI * Math.PI * k * k * tau * tau);
            h[k] = val;
            h[n - k] = val;
        }
        DoubleFFT_1D fft = Fft.plan1d(n);
        fft.realForward(h);
        // h is real and even, so its transform is real: keep Re, times window, times tau (the
        // dx of the discrete convolution integral)
        double[] gain = new double[n / 2 + 1];
        for (int k = 0; k <= n / 2; k++) {
            double re = k == 0 ? h[0] : k == n / 2 ? h[1] : h[2 * k];
            double f = 2.0 * k / n / fc;
            gain[k] = f > 1 ? 0 : re * tau * apodization.window(f);
        }
        double[] row = new double[n];
        for (int v = 0; v < views; v++) {
            java.util.Arrays.fill(row, 0);
            System.arraycopy(sino, v * bins, row, 0, bins);
            fft.realForward(row);
            row[0] *= gain[0];
            row[1] *= gain[n / 2];
            for (int k = 1; k < n / 2; k++) {
                row[2 * k] *= gain[k];
                row[2 * k + 1] *= gain[k];
            }
            fft.realInverse(row, true);
            System.arraycopy(row, 0, sino, v * bins, bins);
        }
    }

    /** Fills {@code out} with a point of ray (v, b) and its unit direction, in mm (x right, y up). */
    private void ray(int v, int b, double[] out) {
        double s = binPosition(b);
        double cs = cos[v];
        double sn = sin[v];
        if (geometry instanceof BeamGeometry.Fan fan) {
            double d = fan.sourceToIsoMm();
            double sx = d * cs;
            double sy = d * sn;
            double dx = -s * sn - sx;
            double dy = s * cs - sy;
            double len = Math.hypot(dx, dy);
            out[0] = sx;
            out[1] = sy;
            out[2] = dx / len;
            out[3] = dy / len;
        } else {
            // p(theta, s) integrates along (-sin, cos) through s (cos, sin)
            out[0] = s * cs;
            out[1] = s * sn;
            out[2] = -sn;
            out[3] = cs;
        }
    }

    /**
     * Joseph's method along one ray. With {@code image} set, returns the line integral (image unit
     * times mm); with {@code scatter} set, adds {@code value} times the same weights into it.
     */
    private double joseph(double[] image, double[] ray, double[] scatter, double value) {
        // to pixel index coordinates: column c = x / d + c0, row r = r0 - y / d
        double c = ray[0] / pixelMm + 0.5 * (width - 1);
        double r = 0.5 * (height - 1) - ray[1] / pixelMm;
        double dc = ray[2];
        double dr = -ray[3];
        boolean alongColumns = Math.abs(dc) >= Math.abs(dr);
        // march over the major axis (n steps), interpolate on the minor axis (m samples)
        int n = alongColumns ? width : height;
        int m = alongColumns ? height : width;
        double major0 = alongColumns ? c : r;
        double minor0 = alongColumns ? r : c;
        double dMajor = alongColumns ? dc : dr;
        double slope = (alongColumns ? dr : dc) / dMajor;
        double step = pixelMm / Math.abs(dMajor); // path length per major step, mm
        // major indices where the minor coordinate lies in (-1, m), i.e. touches a pixel
        int lo = 0;
        int hi = n - 1;
        if (slope != 0) {
            double a = major0 + (-1 - minor0) / slope;
            double bnd = major0 + (m - minor0) / slope;
            lo = Math.max(lo, (int) Math.ceil(Math.min(a, bnd)));
            hi = Math.min(hi, (int) Math.floor(Math.max(a, bnd)));
        } else if (minor0 <= -1 || minor0 >= m) {
            return 0;
        }
        double sum = 0;
        double sv = value * step;
        for (int k = lo; k <= hi; k++) {
            double t = minor0 + (k - major0) * slope;
            int i0 = (int) Math.floor(t);
            double f = t - i0;
            int p0 = alongColumns ? i0 * width + k : k * width + i0;
            int p1 = alongColumns ? p0 + width : p0 + 1;
            boolean in0 = i0 >= 0 && i0 < m;
            boolean in1 = i0 + 1 >= 0 && i0 + 1 < m;
            if (image != null) {
                if (in0) {
                    sum += (1 - f) * image[p0];
                }
                if (in1) {
                    sum += f * image[p1];
                }
            } else {
                if (in0) {
                    scatter[p0] += (1 - f) * sv;
                }
                if (in1) {
                    scatter[p1] += f * sv;
                }
            }
        }
        return sum * step;
    }

    private void checkSubset(int subset, int subsets) {
        if (subsets < 1 || subsets > views || subset < 0 || subset >= subsets) {
            throw new IllegalArgumentException("subset " + subset + " of " + subsets + " with " + views + " views");
        }
    }

    private void checkImage(double[] image) {
        if (image.length != height * width) {
            throw new IllegalArgumentException("image has " + image.length + " values, projector expects "
                    + height + "x" + width);
        }
    }

    private void checkSinogram(double[] sino) {
        if (sino.length != views * bins) {
            throw new IllegalArgumentException("sinogram has " + sino.length + " values, projector expects "
                    + views + " views x " + bins + " bins");
        }
    }
}
