package org.restorerwkv.train;

/** Training stopped because steps kept producing a non-finite loss or gradient: an outcome of the run, not a bug. */
public class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
