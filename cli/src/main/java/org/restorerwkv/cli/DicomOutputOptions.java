package org.restorerwkv.cli;

import java.util.regex.Pattern;
import org.restorerwkv.io.dicom.Derivation;
import picocli.CommandLine.Option;

/** Options of a DICOM output: its series number, and identifiers for inputs without DICOM metadata. */
public final class DicomOutputOptions {

    private static final Pattern UID = Pattern.compile("(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*");

    @Option(names = "--series-number", paramLabel = "N",
            description = "DICOM output: SeriesNumber (default: the source's + 1000 restore, + 2000 simulate, + 3000 convert).")
    Integer seriesNumber;

    @Option(names = "--patient-name", paramLabel = "NAME",
            description = "DICOM output from NIfTI/NPY/PNG/TIFF: PatientName, DICOM PN form (Family^Given) (default: empty).")
    String patientName;

    @Option(names = "--patient-id", paramLabel = "ID", description = "DICOM output from a non-DICOM input: PatientID (default: empty).")
    String patientId;

    @Option(names = "--study-uid", paramLabel = "UID",
            description = "DICOM output from a non-DICOM input: StudyInstanceUID to file the series into (default: a new study).")
    String studyUid;

    @Option(names = "--study-id", paramLabel = "ID", description = "DICOM output from a non-DICOM input: StudyID (default: empty).")
    String studyId;

    @Option(names = "--accession-number", paramLabel = "A",
            description = "DICOM output from a non-DICOM input: AccessionNumber (default: empty).")
    String accessionNumber;

    /** {@code d} with these options applied; a value DICOM cannot hold is an IllegalArgumentException naming the option. */
    Derivation apply(Derivation d) {
        if (seriesNumber != null && seriesNumber < 0) {
            throw new IllegalArgumentException("--series-number " + seriesNumber + " is negative");
        }
        check("--patient-name", patientName, 64 * 5);
        check("--patient-id", patientId, 64);
        check("--study-id", studyId, 16);
        check("--accession-number", accessionNumber, 16);
        if (studyUid != null && (studyUid.length() > 64 || !UID.matcher(studyUid).matches())) {
            throw new IllegalArgumentException("--study-uid '" + studyUid + "' is not a DICOM UID (digits and dots, at most 64)");
        }
        return d.withSeriesNumber(seriesNumber).withIdentifiers(
                new Derivation.Identifiers(patientName, patientId, studyUid, studyId, accessionNumber));
    }

    private static void check(String option, String v, int max) {
        if (v == null) {
            return;
        }
        if (v.length() > max || v.contains("\\") || !v.chars().allMatch(c -> c >= 32 && c < 127)) {
            throw new IllegalArgumentException(option + " '" + v + "': at most " + max
                    + " printable ASCII characters without backslash");
        }
    }
}
