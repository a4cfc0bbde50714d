package org.restorerwkv.degrade;

/** Window multiplying the ramp filter in frequency; {@code f / fN} runs from 0 to 1 (Nyquist). */
enum Apodization {
    /** Pure ramp: sharpest, most noise. */
    RAM_LAK,
    /** Ramp times sinc(f / (2 fN)): the usual default of FBP. */
    SHEPP_LOGAN,
    /** Ramp times (1 + cos(pi f / fN)) / 2: smooth, low noise. */
    HANN;

    double window(double fOverNyquist) {
        return switch (this) {
            case RAM_LAK -> 1.0;
            case SHEPP_LOGAN -> {
                double x = 0.5 * Math.PI * fOverNyquist;
                yield x == 0 ? 1.0 : Math.sin(x) / x;
            }
            case HANN -> 0.5 * (1 + Math.cos(Math.PI * fOverNyquist));
        };
    }

    /** Parses "ram-lak", "shepp-logan", "hann" (case and -/_ insensitive). */
    public static Apodization parse(String s) {
        String k = s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        for (Apodization a : values()) {
            if (a.name().equals(k)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown filter '" + s + "' (ram-lak, shepp-logan, hann)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
