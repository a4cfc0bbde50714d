package org.restorerwkv.degrade;

/**
 * The X-ray beam of a CT scan in the image plane. Rays are traced through the slice centred on the
 * isocentre; detector positions are given where the ray crosses the line through the isocentre
 * perpendicular to the central ray (the "virtual detector"), so both geometries share one
 * filter.
 */
sealed interface BeamGeometry permits BeamGeometry.Parallel, BeamGeometry.Fan {

    /** Angle swept by the views: pi for parallel beam, 2 pi for the fan-beam full scan. */
    double arcRadians();

    /** Detector spacing at the isocentre for a pitch measured on the physical detector. */
    double isocentreSpacing(double detectorPitchMm);

    /** Parallel rays, views equally spaced over 180 degrees, detector spacing unmagnified. */
    record Parallel() implements BeamGeometry {
        @Override
        public double arcRadians() {
            return Math.PI;
        }

        @Override
        public double isocentreSpacing(double detectorPitchMm) {
            return detectorPitchMm;
        }

        @Override
        public String toString() {
            return "parallel";
        }
    }

    /**
     * A point source on a circle of radius {@code sourceToIsoMm} and a flat detector at
     * {@code sourceToDetectorMm} from the source; views equally spaced over 360 degrees (full scan,
     * so every ray is measured twice and no short-scan weighting is needed). The defaults of the
     * AAPM-Mayo low-dose data (Siemens SOMATOM Definition) are 595 mm and 1085.6 mm.
     */
    record Fan(double sourceToIsoMm, double sourceToDetectorMm) implements BeamGeometry {
        public Fan {
            Slices.requirePositive("source-to-isocentre distance (mm)", sourceToIsoMm);
            if (!(sourceToDetectorMm > sourceToIsoMm) || !Double.isFinite(sourceToDetectorMm)) {
                throw new IllegalArgumentException("source-to-detector distance " + sourceToDetectorMm
                        + " mm must exceed the source-to-isocentre distance " + sourceToIsoMm + " mm");
            }
        }

        public static Fan siemensDefinition() {
            return new Fan(595.0, 1085.6);
        }

        @Override
        public double arcRadians() {
            return 2 * Math.PI;
        }

        @Override
        public double isocentreSpacing(double detectorPitchMm) {
            return detectorPitchMm * sourceToIsoMm / sourceToDetectorMm;
        }

        @Override
        public String toString() {
            return "fan(source-iso " + sourceToIsoMm + " mm, source-detector " + sourceToDetectorMm + " mm)";
        }
    }
}
