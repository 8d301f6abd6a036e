package io.redsync.internal;

/**
 * Key naming for fencing counters. The counter must live in the same Redis Cluster hash slot as its lock
 * key, so a script can touch both: a key with a hash tag ({@code {...}}) keeps it with a suffix; a key
 * without one is wrapped whole in a tag, which hashes to the same slot as the bare key (the slot of
 * {@code {k}:fence} is CRC16 of {@code k}). A key that contains '}' but no valid tag (say {@code {}x}) hashes
 * whole and no tag can contain '}', so nothing can share its slot; it gets the suffix, which is right on
 * independent masters (what Redlock uses) and not co-located on a cluster.
 */
final class FenceKeys {
    private FenceKeys() {
    }

    /**
     * The counter key beside {@code key}.
     *
     * @param key a lock key (or any key a fence guards)
     * @return {@code key + ":fence"} when the key has a hash tag, else {@code "{" + key + "}:fence"}
     */
    static String counterKey(String key) {
        return tagged(key) + ":fence";
    }

    /**
     * {@code key} as the stem of a key that must share its slot: itself when it has a hash tag (or a '}'),
     * else wrapped whole in a tag.
     *
     * @param key a lock key, or a data key {@code FencedWrites} stores beside
     * @return the stem, to which a suffix is appended
     */
    static String tagged(String key) {
        return hasHashTag(key) || key.indexOf('}') >= 0 ? key : "{" + key + "}";
    }

    /** Redis Cluster's rule: a '{' followed later by a '}' with at least one character between them. */
    static boolean hasHashTag(String key) {
        int open = key.indexOf('{');
        if (open < 0) {
            return false;
        }
        int close = key.indexOf('}', open + 1);
        return close > open + 1;
    }
}
