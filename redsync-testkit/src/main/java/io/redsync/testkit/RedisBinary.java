package io.redsync.testkit;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code redis-server} executable the testkit starts, and where it was found.
 *
 * <p>Obtained from {@link RedisNodes#binary()}, which resolves it once per JVM: the {@code REDIS_SERVER}
 * environment variable, else {@code redis-server} on the {@code PATH}, else the binary shipped in the
 * {@code com.github.codemonstur:embedded-redis} jar.
 *
 * @since 0.1.0
 */
public final class RedisBinary {
    /** {@link #source()} of a binary named by the {@code REDIS_SERVER} environment variable. */
    static final String SOURCE_ENV = "REDIS_SERVER";
    /** {@link #source()} of a binary found on the {@code PATH}. */
    static final String SOURCE_PATH = "PATH";
    /** {@link #source()} of the binary extracted from the embedded-redis jar. */
    static final String SOURCE_EMBEDDED = "embedded-redis";

    private final Path path;
    private final String source;
    private final String version;

    RedisBinary(Path path, String source, String version) {
        this.path = Objects.requireNonNull(path, "path");
        this.source = Objects.requireNonNull(source, "source");
        this.version = Objects.requireNonNull(version, "version");
    }

    /**
     * The absolute path of the executable.
     *
     * @return the executable's path
     * @since 0.1.0
     */
    public Path path() {
        return path;
    }

    /**
     * Where the executable was found: {@code "REDIS_SERVER"}, {@code "PATH"} or {@code "embedded-redis"}.
     *
     * @return the source
     * @since 0.1.0
     */
    public String source() {
        return source;
    }

    /**
     * The Redis version the executable reports in {@code redis-server --version}, e.g. {@code "7.0.15"}.
     *
     * @return the version
     * @since 0.1.0
     */
    public String version() {
        return version;
    }

    /**
     * A one-line description, e.g. {@code redis-server 7.0.15 from PATH (/usr/bin/redis-server)}.
     *
     * @return the description
     * @since 0.1.0
     */
    @Override
    public String toString() {
        return "redis-server " + version + " from " + source + " (" + path + ")";
    }
}
