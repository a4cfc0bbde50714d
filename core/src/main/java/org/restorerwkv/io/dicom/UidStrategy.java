package org.restorerwkv.io.dicom;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.UUID;

/**
 * Makes the UIDs of a written series. Implementations must return a valid UID (PS3.5 9.1: digits
 * and dots, at most 64 characters) and be safe to call from the writer's thread.
 */
@FunctionalInterface
public interface UidStrategy {

    /**
     * A UID for a new object.
     *
     * @param kind "series", "instance", "study" or "frame-of-reference"
     * @param source the UID of the source object it derives from (the source series or instance),
     *     or null when there is none (a NIfTI input)
     * @param index the slice index for instances, else -1
     */
    String uid(String kind, String source, int index);

    /** "2.25." + a random UUID as an integer (PS3.5 B.2): a new UID on every call. The default. */
    static UidStrategy random() {
        return (kind, source, index) -> uuidUid(UUID.randomUUID());
    }

    /**
     * Repeatable UIDs: "2.25." + the first 128 bits of SHA-256 over (kind, source UID, index,
     * identity), so writing the same derivation of the same source twice gives the same UIDs.
     * {@code identity} must tell apart everything that may differ between outputs of one source:
     * the operation and the model's identity (its weights' hash), the simulation parameters, and
     * for inputs without DICOM UIDs the input itself.
     */
    static UidStrategy hashed(String identity) {
        return (kind, source, index) -> {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] h = md.digest((kind + "\n" + source + "\n" + index + "\n" + identity).getBytes(StandardCharsets.UTF_8));
                return "2.25." + new BigInteger(1, Arrays.copyOf(h, 16));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is required of every Java platform", e);
            }
        };
    }

    /** "2.25." + the UUID's 128 bits as an unsigned decimal integer. */
    static String uuidUid(UUID u) {
        BigInteger mask = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        BigInteger hi = BigInteger.valueOf(u.getMostSignificantBits()).and(mask);
        BigInteger lo = BigInteger.valueOf(u.getLeastSignificantBits()).and(mask);
        return "2.25." + hi.shiftLeft(64).or(lo);
    }
}
