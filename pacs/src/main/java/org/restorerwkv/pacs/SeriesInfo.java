package org.restorerwkv.pacs;

/**
 * A series as a QIDO-RS search describes it. Patient attributes are kept only for display when
 * asked for ({@code patientName} is null otherwise).
 *
 * @param studyUid StudyInstanceUID
 * @param seriesUid SeriesInstanceUID
 * @param modality Modality, or "" when absent
 * @param description SeriesDescription, or ""
 * @param seriesNumber SeriesNumber, or null
 * @param instances NumberOfSeriesRelatedInstances, or -1 when the server did not say
 * @param dateTime SeriesDate + SeriesTime (or the study's), "" when absent: orders series oldest first
 * @param patientName PatientName, or null
 */
public record SeriesInfo(String studyUid, String seriesUid, String modality, String description, Integer seriesNumber,
        int instances, String dateTime, String patientName) {}
