package org.restorerwkv.io.dicom;

import java.util.Objects;

/**
 * What was done to a source to make the volume being written, so that the derived DICOM series
 * says it honestly (DerivationDescription, Derivation Code Sequence, SeriesDescription suffix,
 * SeriesNumber): a simulated scan is never labelled restored. Also carries the series number
 * override, the UID strategy and, for inputs without DICOM metadata, the patient and study
 * identifiers. Immutable.
 *
 * @param operation what was done
 * @param detail the model's name (restored), what was simulated (simulated), or null
 * @param seriesNumber the SeriesNumber to write, or null for the source's plus {@link Operation#seriesOffset()}
 * @param uids how new UIDs are made
 * @param identifiers patient and study identifiers for an input without DICOM metadata
 */
public record Derivation(Operation operation, String detail, Integer seriesNumber, UidStrategy uids,
        Identifiers identifiers) {

    /** The operations a written series can come from. */
    public enum Operation {
        RESTORED(1000, "RRWKV01", "Image restoration by a deep-learning model"),
        SIMULATED(2000, "RRWKV02", "Simulated degradation (not an acquisition)"),
        CONVERTED(3000, "RRWKV03", "Pixel data re-encoded");

        private final int seriesOffset;
        private final String code;
        private final String meaning;

        Operation(int seriesOffset, String code, String meaning) {
            this.seriesOffset = seriesOffset;
            this.code = code;
            this.meaning = meaning;
        }

        /** Added to the source's SeriesNumber, so that each operation's output is a different series number. */
        public int seriesOffset() {
            return seriesOffset;
        }

        /** Code value in the private coding scheme {@link #CODING_SCHEME} (CID 7203 has no code for these). */
        public String code() {
            return code;
        }

        public String meaning() {
            return meaning;
        }
    }

    /** Private coding scheme designator of the Derivation Code Sequence ("99" prefix, PS3.16 8.2). */
    public static final String CODING_SCHEME = "99RRWKV";

    /**
     * Patient and study identifiers for a series written from a volume without DICOM metadata
     * (null fields are written empty; a null study UID makes a new study).
     */
    public record Identifiers(String patientName, String patientId, String studyInstanceUid, String studyId,
            String accessionNumber) {

        public static final Identifiers NONE = new Identifiers(null, null, null, null, null);

        public boolean isEmpty() {
            return equals(NONE);
        }
    }

    public Derivation {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(uids, "uids");
        identifiers = identifiers == null ? Identifiers.NONE : identifiers;
    }

    /** Restored with the named model. */
    public static Derivation restored(String model) {
        return new Derivation(Operation.RESTORED, Objects.requireNonNull(model, "model"), null, UidStrategy.random(), null);
    }

    /** A simulation, e.g. "low-dose CT at dose 0.25". */
    public static Derivation simulated(String what) {
        return new Derivation(Operation.SIMULATED, Objects.requireNonNull(what, "what"), null, UidStrategy.random(), null);
    }

    /** Written in another format, values unchanged (up to the stored precision). */
    public static Derivation converted() {
        return new Derivation(Operation.CONVERTED, null, null, UidStrategy.random(), null);
    }

    public Derivation withSeriesNumber(Integer n) {
        return new Derivation(operation, detail, n, uids, identifiers);
    }

    public Derivation withUids(UidStrategy u) {
        return new Derivation(operation, detail, seriesNumber, u, identifiers);
    }

    public Derivation withIdentifiers(Identifiers ids) {
        return new Derivation(operation, detail, seriesNumber, uids, ids);
    }

    /** DerivationDescription (0008,2111). */
    public String description() {
        return switch (operation) {
            case RESTORED -> "Restored by Restore-RWKV with model " + detail;
            case SIMULATED -> "Simulated " + detail + " by Restore-RWKV from the source images; not an acquisition";
            case CONVERTED -> "Converted by Restore-RWKV; pixel values unchanged up to the stored precision";
        };
    }

    /** Appended once to the source's SeriesDescription. */
    public String seriesSuffix() {
        return switch (operation) {
            case RESTORED -> " restored by Restore-RWKV";
            case SIMULATED -> " simulated by Restore-RWKV";
            case CONVERTED -> " converted by Restore-RWKV";
        };
    }
}
