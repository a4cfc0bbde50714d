package org.restorerwkv.io.dicom;

import com.github.jaiimageio.jpeg2000.impl.J2KImageReaderSpi;
import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.restorerwkv.io.InvalidInputException;

/**
 * JPEG and JPEG 2000 frames through maintained ImageIO decoders from Maven Central (licences in
 * the POM and docs/formats.md): TwelveMonkeys imageio-jpeg for JPEG baseline, 8-bit extended and
 * lossless (process 14, any predictor, 2..16 bits), jai-imageio-jpeg2000 for JPEG 2000. 12-bit DCT
 * JPEG is refused by name: TwelveMonkeys hands DCT decoding to the JDK's decoder, which reads
 * 8-bit samples only. Readers are created per frame, so decoding is thread safe.
 */
final class DicomCodecs {

    private DicomCodecs() {}

    /** The providers, looked up once; TwelveMonkeys' JPEG provider needs registering to find its JDK delegate. */
    private static final class Providers {
        static final ImageReaderSpi JPEG;
        static final ImageReaderSpi J2K = new J2KImageReaderSpi();

        static {
            IIORegistry registry = IIORegistry.getDefaultInstance();
            ImageReaderSpi found = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
            if (found == null) {
                // not registered by the service loader (e.g. a class path without the service files)
                registry.registerServiceProvider(new JPEGImageReaderSpi(), ImageReaderSpi.class);
                found = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
            }
            JPEG = found;
        }
    }

    /** Whether a fragment starts a codestream of this syntax (JPEG SOI FFD8, JPEG 2000 SOC FF4F or a JP2 box). */
    static boolean startsCodestream(byte[] f, String ts) {
        if (f.length < 2 || (f[0] & 0xff) != 0xFF) {
            return f.length >= 8 && f[4] == 'j' && f[5] == 'P' && ts.startsWith("1.2.840.10008.1.2.4.9");
        }
        int m = f[1] & 0xff;
        return ts.startsWith("1.2.840.10008.1.2.4.9") ? m == 0x4F : m == 0xD8;
    }

    /** One frame decoded to little-endian samples of BitsAllocated bits, as stored (before the modality LUT). */
    static byte[] decode(byte[] frame, String ts, DicomPixels.Layout l, int index, Path file) throws InvalidInputException {
        boolean j2k = ts.equals(DicomTransferSyntax.J2K) || ts.equals(DicomTransferSyntax.J2K_LOSSLESS);
        String what = (j2k ? "JPEG 2000" : "JPEG") + " frame " + (index + 1);
        if (!j2k) {
            int[] sof = startOfFrame(frame);
            if (sof == null) {
                throw new InvalidInputException(file, "corrupt " + what + ": no start-of-frame marker");
            }
            boolean dct = sof[0] != 0xC3 && sof[0] != 0xC7 && sof[0] != 0xCB && sof[0] != 0xCF;
            if (dct && sof[1] > 8) {
                throw new InvalidInputException(file, "unsupported DICOM transfer syntax " + DicomTransferSyntax.describe(ts)
                        + " with " + sof[1] + "-bit samples (JPEG process 4): no maintained Java decoder reads 12-bit"
                        + " DCT JPEG; decompress it first (e.g. gdcmconv --raw IN OUT)");
            }
        }
        Raster r;
        ImageReader reader = null;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(frame))) {
            reader = (j2k ? Providers.J2K : Providers.JPEG).createReaderInstance();
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            if (w != l.cols() || h != l.rows()) {
                throw new InvalidInputException(file, what + " is " + w + "x" + h + ", the header declares Columns "
                        + l.cols() + " x Rows " + l.rows());
            }
            r = reader.readRaster(0, null);
        } catch (IOException | RuntimeException e) {
            // corrupt codestreams make these decoders throw anything from IIOException to index errors
            throw new InvalidInputException(file, "corrupt " + what + " (" + e + ")", e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
        if (r.getNumBands() != 1 || r.getWidth() != l.cols() || r.getHeight() != l.rows()) {
            throw new InvalidInputException(file, what + " decodes to " + r.getNumBands() + " component(s) of "
                    + r.getWidth() + "x" + r.getHeight() + "; expected greyscale " + l.cols() + "x" + l.rows());
        }
        int bpp = l.allocated() / 8;
        byte[] out = new byte[l.frameSize() * bpp];
        int[] row = new int[l.cols()];
        int minX = r.getMinX();
        int minY = r.getMinY();
        for (int y = 0; y < l.rows(); y++) {
            r.getSamples(minX, minY + y, l.cols(), 1, 0, row);
            for (int x = 0; x < l.cols(); x++) {
                int v = row[x];
                int p = (y * l.cols() + x) * bpp;
                for (int k = 0; k < bpp; k++) {
                    out[p + k] = (byte) (v >> (8 * k));
                }
            }
        }
        return out;
    }

    /**
     * {marker, precision} of the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC), or null.
     * Only marker segments before it are walked, so this stays cheap on any input.
     */
    static int[] startOfFrame(byte[] b) {
        int p = 2;
        if (b.length < 4 || (b[0] & 0xff) != 0xFF || (b[1] & 0xff) != 0xD8) {
            return null;
        }
        while (p + 4 < b.length) {
            if ((b[p] & 0xff) != 0xFF) {
                return null;
            }
            int m = b[p + 1] & 0xff;
            if (m == 0xFF) {
                p++; // fill byte
                continue;
            }
            int len = (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                return p + 4 < b.length ? new int[] {m, b[p + 4] & 0xff} : null;
            }
            p += 2 + len;
        }
        return null;
    }
}
