package io.redsync.lettuce;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script and its SHA-1, for EVALSHA with an EVAL fallback. */
final class Script {

    /**
     * Acquire. KEYS[1] = lock key, ARGV[1] = owner token, ARGV[2] = TTL ms, ARGV[3] = '1' to refresh a
     * key that already holds our token (a retry after a lost reply), '0' for plain SET NX semantics.
     * Returns {1, 0} when the key now holds our value, {0, holder PTTL} otherwise.
     */
    static final Script ACQUIRE = new Script("""
            local held = redis.call('GET', KEYS[1])
            if not held then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return {1, 0}
            end
            if held == ARGV[1] and ARGV[3] == '1' then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return {1, 0}
            end
            return {0, redis.call('PTTL', KEYS[1])}
            """);

    /** Compare-and-delete. Returns 1 deleted, 0 held by another value, -1 absent. */
    static final Script RELEASE = new Script("""
            local held = redis.call('GET', KEYS[1])
            if held == ARGV[1] then
              redis.call('DEL', KEYS[1])
              return 1
            end
            if not held then
              return -1
            end
            return 0
            """);

    /**
     * Compare-and-PEXPIRE. ARGV[3] = '1' re-creates an absent key (setNXOnExtend). Returns 1 extended,
     * 0 held by another value, -1 absent.
     */
    static final Script EXTEND = new Script("""
            local held = redis.call('GET', KEYS[1])
            if held == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            if not held then
              if ARGV[3] == '1' then
                redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
                return 1
              end
              return -1
            end
            return 0
            """);

    static final Script[] ALL = {ACQUIRE, RELEASE, EXTEND};

    final String body;
    final String sha;

    private Script(String body) {
        this.body = body;
        this.sha = sha1(body);
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }
}
