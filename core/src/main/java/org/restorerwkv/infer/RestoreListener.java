package org.restorerwkv.infer;

/**
 * Hears how a restoration advances and may cancel it. Called on the restoring thread between
 * batches of slices, so an implementation should return quickly.
 */
public interface RestoreListener {

    /** A listener that ignores progress and never cancels. */
    RestoreListener NONE = new RestoreListener() { };

    /** {@code done} of {@code total} slices of the current call are restored. */
    default void progress(int done, int total) {}

    /**
     * Polled before every batch; true stops the call with a {@link java.util.concurrent.CancellationException}.
     * (An interrupted thread stops the same way.)
     */
    default boolean cancelled() {
        return false;
    }
}
