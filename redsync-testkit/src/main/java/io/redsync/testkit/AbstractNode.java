package io.redsync.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What process and Docker nodes share: addressing and commands over {@link RespClient}. */
abstract class AbstractNode implements RedisNode {
    private final int index;
    private final String host;
    private final String password;

    AbstractNode(int index, String host, String password) {
        this.index = index;
        this.host = host;
        this.password = password;
    }

    @Override
    public final int index() {
        return index;
    }

    @Override
    public final String host() {
        return host;
    }

    final String password() {
        return password;
    }

    @Override
    public final String uri() {
        String auth = password == null ? "" : ":" + encodeUserInfo(password) + "@";
        return "redis://" + auth + host + ":" + port();
    }

    @Override
    public final void flush() {
        call("FLUSHALL");
    }

    @Override
    public final Set<String> keys() {
        return keys("*");
    }

    @Override
    public final Set<String> keys(String pattern) {
        Object reply = call("KEYS", pattern);
        Set<String> keys = new HashSet<>();
        for (Object key : (List<?>) reply) {
            keys.add((String) key);
        }
        return keys;
    }

    @Override
    public final Object call(String... command) {
        checkCallable();
        try (RespClient client = RespClient.connect(host, port(), password, RespClient.DEFAULT_TIMEOUT)) {
            return client.call(command);
        } catch (IOException e) {
            String name = command.length == 0 ? "a command" : command[0];
            throw new UncheckedIOException(describe() + " did not answer " + name + ": " + e.getMessage(), e);
        }
    }

    /** Throws {@link IllegalStateException} when a command cannot be answered now (stopped, paused, closed). */
    abstract void checkCallable();

    /** Releases everything this node holds (process or container, temp dir); idempotent and never throws. */
    abstract void destroy();

    /** A short name for messages: {@code node 1 (127.0.0.1:6390)}. */
    final String describe() {
        return "node " + index + " (" + host + ":" + port() + ")";
    }

    @Override
    public String toString() {
        return describe();
    }

    /** Waits briefly between readiness probes; a local redis-server starts in a few milliseconds. */
    static void pauseBetweenProbes(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a redis-server; the test is being cancelled", e);
        }
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters, so any password survives URI parsing. */
    static String encodeUserInfo(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
