package io.redsync.spi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Computes {@link LockNode#announcementOf}: cheaply, since a release to N nodes asks for the same one N
 * times in a row (the last result is kept), and without a provider lookup per call (a prepared digest is
 * cloned).
 */
final class Announcements {
    private static final MessageDigest PROTOTYPE;
    /** The last value and its announcement; a race only recomputes. */
    private static volatile String[] last = {"", ""};

    static {
        try {
            PROTOTYPE = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }

    private Announcements() {
    }

    static String of(String value) {
        String[] cached = last;
        if (cached[0].equals(value)) {
            return cached[1];
        }
        MessageDigest digest;
        try {
            digest = (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            try {
                digest = MessageDigest.getInstance("SHA-1");
            } catch (NoSuchAlgorithmException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        String hash = HexFormat.of().formatHex(digest.digest(value.getBytes(StandardCharsets.UTF_8)));
        last = new String[] {value, hash};
        return hash;
    }
}
