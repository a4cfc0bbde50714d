package org.restorerwkv.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * Reads the image of an InVesalius project ({@code .inv3}): a gzip'd tar holding
 * {@code DIR/main.plist} (an Apple XML property list) and the voxel file it names.
 *
 * <p>main.plist: {@code matrix} = {dtype (a NumPy name), filename, shape [depth, height, width]},
 * {@code spacing} = [x, y, z] in mm, {@code modality}, {@code orientation}. The voxel file is the
 * raw C-order array InVesalius memory-maps, little-endian. Its size must be exactly shape x item
 * size: the image matrix has no padding row or column (only the mask files do, a leading one on
 * each axis: mask_shape 109x257x257 for a 108x256x256 image in the Cranium example).
 *
 * <p>The volume gets the spacing and an axis-aligned affine at the origin: the project keeps no
 * patient position.
 */
final class Inv3Format {

    private Inv3Format() {}

    static final String MAIN = "main.plist";

    /** True when a decompressed head is a tar archive (POSIX/GNU "ustar" magic at byte 257). */
    static boolean looksLikeTar(byte[] head) {
        return head.length >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a'
                && head[261] == 'r';
    }

    /** Nesting deeper than this in main.plist is refused (the parser recurses once per level). */
    static final int MAX_PLIST_DEPTH = 64;

    public static Volume read(Path file) throws IOException {
        return read(file, ReadLimits.DEFAULT);
    }

    /**
     * Reads a project within {@code limits}: the whole gzip stream counts against the byte limit
     * and is inflated to its end (so its CRC is checked).
     */
    public static Volume read(Path file, ReadLimits limits) throws IOException {
        byte[] plist = entry(file, MAIN, -1, limits);
        if (plist == null) {
            throw new InvalidInputException(file, "InVesalius project without " + MAIN);
        }
        Object root;
        try {
            root = parsePlist(plist);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, MAIN + ": " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> main) || !(main.get("matrix") instanceof Map<?, ?> matrix)) {
            throw new InvalidInputException(file, MAIN + " has no 'matrix' dictionary");
        }
        String dtype = matrix.get("dtype") instanceof String s ? s : null;
        String name = matrix.get("filename") instanceof String s ? s : null;
        long[] shape = numbers(matrix.get("shape"));
        double[] spacingXyz = doubles(main.get("spacing"));
        if (dtype == null || name == null || shape == null || shape.length != 3) {
            throw new InvalidInputException(file, MAIN + ": 'matrix' needs dtype, filename and a 3-value shape");
        }
        int item = itemSize(dtype);
        if (item < 0) {
            throw new InvalidInputException(file, "unsupported voxel type '" + dtype
                    + "' (int8, uint8, int16, uint16, int32, uint32, float32, float64)");
        }
        for (long n : shape) {
            if (n < 1 || n > Integer.MAX_VALUE) {
                throw new InvalidInputException(file, MAIN + ": bad matrix shape " + java.util.Arrays.toString(shape));
            }
        }
        long count = shape[0] * shape[1] * shape[2];
        limits.checkVoxels(file, shape[0] > (1 << 20) || shape[1] > (1 << 20) || shape[2] > (1 << 20) ? -1 : count,
                shape[0] + "x" + shape[1] + "x" + shape[2]);
        limits.checkBytes(file, count * item, "the matrix " + name);
        if (count > Integer.MAX_VALUE - 8 || count * item > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, "matrix " + java.util.Arrays.toString(shape) + " is too large");
        }
        if (spacingXyz == null || spacingXyz.length != 3) {
            throw new InvalidInputException(file, MAIN + ": 'spacing' needs 3 values");
        }
        for (double s : spacingXyz) {
            if (!(s > 0) || !Double.isFinite(s)) {
                throw new InvalidInputException(file, MAIN + ": spacing must be positive, got "
                        + java.util.Arrays.toString(spacingXyz));
            }
        }
        byte[] raw = entry(file, name, count * item, limits);
        if (raw == null) {
            throw new InvalidInputException(file, "InVesalius project without its matrix file " + name);
        }
        float[] v = decode(raw, dtype, (int) count);
        double[] spacing = {spacingXyz[2], spacingXyz[1], spacingXyz[0]};
        return Volume.of((int) shape[0], (int) shape[1], (int) shape[2], v, spacing);
    }

    /**
     * The bytes of the tar entry whose base name is {@code baseName} (the project folder inside the
     * tar is a random temporary name), or null; with {@code expected >= 0} its size must match.
     */
    private static byte[] entry(Path file, String baseName, long expected, ReadLimits limits) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream inflated = limits.bound(new GZIPInputStream(new BufferedInputStream(raw, 1 << 16)), file,
                        "the project's gzip stream");
                TarArchiveInputStream tar = new TarArchiveInputStream(inflated)) {
            TarArchiveEntry e;
            byte[] found = null;
            while ((e = tar.getNextEntry()) != null) {
                String n = e.getName();
                String base = n.substring(n.lastIndexOf('/') + 1);
                if (!e.isFile() || !base.equals(baseName) || found != null) {
                    continue;
                }
                long size = e.getSize();
                if (expected >= 0 && size != expected) {
                    throw new InvalidInputException(file, baseName + " holds " + size + " bytes, "
                            + MAIN + " describes " + expected);
                }
                if (size > 64L << 20 && expected < 0) {
                    throw new InvalidInputException(file, baseName + " is implausibly large (" + size + " bytes)");
                }
                byte[] b = tar.readNBytes((int) size);
                if (b.length != size) {
                    throw new InvalidInputException(file, baseName + " is truncated (" + b.length + " of "
                            + size + " bytes)");
                }
                found = b;
            }
            ReadLimits.drain(inflated); // to the gzip trailer, whose CRC GZIPInputStream checks
            return found;
        } catch (InvalidInputException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidInputException(file, "corrupt InVesalius project (" + e.getMessage() + ")", e);
        }
    }

    private static int itemSize(String dtype) {
        return switch (dtype) {
            case "int8", "uint8" -> 1;
            case "int16", "uint16" -> 2;
            case "int32", "uint32", "float32" -> 4;
            case "float64" -> 8;
            default -> -1;
        };
    }

    private static float[] decode(byte[] raw, String dtype, int n) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (dtype) {
                case "int8" -> b.get();
                case "uint8" -> b.get() & 0xff;
                case "int16" -> b.getShort();
                case "uint16" -> b.getShort() & 0xffff;
                case "int32" -> b.getInt();
                case "uint32" -> b.getInt() & 0xffffffffL;
                case "float32" -> b.getFloat();
                case "float64" -> (float) b.getDouble();
                default -> throw new IllegalStateException(dtype);
            };
        }
        return v;
    }

    private static long[] numbers(Object o) {
        if (!(o instanceof List<?> l)) {
            return null;
        }
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(l.get(i) instanceof Long x)) {
                return null;
            }
            r[i] = x;
        }
        return r;
    }

    private static double[] doubles(Object o) {
        if (!(o instanceof List<?> l)) {
            return null;
        }
        double[] r = new double[l.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(l.get(i) instanceof Number x)) {
                return null;
            }
            r[i] = x.doubleValue();
        }
        return r;
    }

    /**
     * An XML property list as Java values: dict -> Map (insertion order), array -> List, integer ->
     * Long, real -> Double, string/date -> String, true/false -> Boolean, data -> its base64 text.
     * The DOCTYPE's external DTD is never fetched.
     */
    static Object parsePlist(byte[] xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setExpandEntityReferences(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true); // entity expansion and size limits
            DocumentBuilder db = f.newDocumentBuilder();
            db.setErrorHandler(new org.xml.sax.helpers.DefaultHandler() {
                @Override
                public void fatalError(org.xml.sax.SAXParseException x) throws SAXException {
                    throw x; // reported once, as the exception, not also printed to stderr
                }
            });
            Element plist = db.parse(new java.io.ByteArrayInputStream(xml)).getDocumentElement();
            checkDepth(plist);
            if (!"plist".equals(plist.getTagName())) {
                throw new IllegalArgumentException("not a property list (root <" + plist.getTagName() + ">)");
            }
            List<Element> top = children(plist);
            if (top.size() != 1) {
                throw new IllegalArgumentException("property list must hold one value");
            }
            return value(top.get(0), 0);
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException("malformed XML (" + e.getMessage() + ")");
        }
    }

    private static Object value(Element e, int depth) {
        if (depth > MAX_PLIST_DEPTH) {
            throw new IllegalArgumentException("nested deeper than " + MAX_PLIST_DEPTH + " levels");
        }
        String text = e.getTagName().equals("dict") || e.getTagName().equals("array") ? "" : e.getTextContent().strip();
        try {
            return switch (e.getTagName()) {
                case "dict" -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    List<Element> c = children(e);
                    if (c.size() % 2 != 0) {
                        throw new IllegalArgumentException("<dict> with a key and no value");
                    }
                    for (int i = 0; i < c.size(); i += 2) {
                        if (!"key".equals(c.get(i).getTagName())) {
                            throw new IllegalArgumentException("<dict> entry without <key>");
                        }
                        m.put(c.get(i).getTextContent(), value(c.get(i + 1), depth + 1));
                    }
                    yield m;
                }
                case "array" -> {
                    List<Object> l = new ArrayList<>();
                    for (Element c : children(e)) {
                        l.add(value(c, depth + 1));
                    }
                    yield l;
                }
                case "integer" -> Long.parseLong(text);
                case "real" -> Double.parseDouble(text);
                case "string", "date", "data" -> e.getTextContent();
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                default -> throw new IllegalArgumentException("unknown element <" + e.getTagName() + ">");
            };
        } catch (NumberFormatException x) {
            throw new IllegalArgumentException("<" + e.getTagName() + "> '" + text + "' is not a number");
        }
    }

    /** Walks the tree without recursion (the DOM's own getTextContent recurses) and refuses deep nesting. */
    private static void checkDepth(Element root) {
        Node n = root;
        int depth = 0;
        while (n != null) {
            if (n.getFirstChild() != null) {
                n = n.getFirstChild();
                if (++depth > MAX_PLIST_DEPTH + 1) {
                    throw new IllegalArgumentException("nested deeper than " + MAX_PLIST_DEPTH + " levels");
                }
                continue;
            }
            while (n != null && n != root && n.getNextSibling() == null) {
                n = n.getParentNode();
                depth--;
            }
            n = n == null || n == root ? null : n.getNextSibling();
        }
    }

    private static List<Element> children(Element e) {
        List<Element> r = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                r.add(c);
            }
        }
        return r;
    }
}
