package org.restorerwkv.data;

import java.util.Locale;

/** A part of a dataset: the folder name under each modality. */
public enum Split {
    TRAIN("train"),
    VALIDATION("validation"),
    TEST("test");

    private final String folder;

    Split(String folder) {
        this.folder = folder;
    }

    public String folderName() {
        return folder;
    }

    public static Split parse(String s) {
        for (Split v : values()) {
            if (v.folder.equals(s.strip().toLowerCase(Locale.ROOT))) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown split '" + s + "': expected train, validation or test");
    }
}
