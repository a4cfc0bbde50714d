package org.restorerwkv.pacs;

import java.io.IOException;

/**
 * A DICOMweb exchange failed: the message is one line naming the request's path, the HTTP status
 * and the server's reason (or the network failure), never a patient attribute or a secret.
 */
public class PacsException extends IOException {

    private final int status;

    public PacsException(String message, int status) {
        super(message);
        this.status = status;
    }

    public PacsException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
    }

    /** The HTTP status, or -1 when no response came (connection refused, timeout, reset). */
    public int status() {
        return status;
    }

    /** Worth another try: no response, 408, 429 or a 5xx. */
    public boolean transientFailure() {
        return status == -1 || status == 408 || status == 429 || status >= 500;
    }
}
