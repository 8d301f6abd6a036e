package io.redsync.testkit;

/**
 * How a node keeps its data across a {@link RedisNode#kill() kill} and {@link RedisNode#restart() restart}.
 *
 * <p>RDB snapshots are always off ({@code --save ""}): a snapshot taken at an arbitrary moment would make
 * "what survives a crash" depend on timing, and tests need it to be deterministic.
 *
 * @since 0.1.0
 */
public enum Persistence {
    /**
     * Nothing is persisted ({@code --save "" --appendonly no}): a restarted node starts empty.
     *
     * @since 0.1.0
     */
    NONE,

    /**
     * Append-only file, fsync once a second ({@code --appendonly yes --appendfsync everysec}): a kill may
     * lose up to about a second of writes, as in a typical production setup.
     *
     * @since 0.1.0
     */
    APPEND_ONLY_EVERYSEC,

    /**
     * Append-only file, fsync before every reply ({@code --appendonly yes --appendfsync always}): every
     * acknowledged write survives a kill.
     *
     * @since 0.1.0
     */
    APPEND_ONLY_FSYNC_ALWAYS;

    /** The {@code redis-server} arguments for this mode; {@code --save ""} is set by the caller for all modes. */
    String[] arguments() {
        return switch (this) {
            case NONE -> new String[] {"--appendonly", "no"};
            case APPEND_ONLY_EVERYSEC -> new String[] {"--appendonly", "yes", "--appendfsync", "everysec"};
            case APPEND_ONLY_FSYNC_ALWAYS -> new String[] {"--appendonly", "yes", "--appendfsync", "always"};
        };
    }
}
