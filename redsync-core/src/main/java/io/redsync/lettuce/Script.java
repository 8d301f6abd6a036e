package io.redsync.lettuce;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script and its SHA-1, for EVALSHA with an EVAL fallback. */
final class Script {

    /**
     * Acquire. KEYS[1] = lock key, optional KEYS[2] = fencing counter; ARGV[1] = owner token, ARGV[2] = TTL
     * ms, ARGV[3] = '1' to refresh a key that already holds our token (a retry after a lost reply), '0' for
     * plain SET NX semantics. Returns {1, 0, counter} when the key now holds our value (counter -1 without
     * KEYS[2], else its value, 0 if unset), {0, holder PTTL, -1} otherwise.
     */
    static final Script ACQUIRE = new Script("""
            local held = redis.call('GET', KEYS[1])
            if not held or (held == ARGV[1] and ARGV[3] == '1') then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              local counter = -1
              if #KEYS > 1 then
                counter = tonumber(redis.call('GET', KEYS[2]) or '0')
              end
              return {1, 0, counter}
            end
            return {0, redis.call('PTTL', KEYS[1]), -1}
            """);

    /**
     * Compare-and-delete. ARGV[2] = channel announcing the release, ARGV[3] = the announcement (the SHA-1 of
     * the released token, computed by the client: waiters recognise their own releases without the token
     * being published, and Redis does not hash on every release). Returns 1 deleted, 0 held by another
     * value, -1 absent. PUBLISH runs by pcall: a script's writes are not rolled back when a later command
     * fails, so an ACL user without PUBLISH (or the channel) would otherwise see an error for a release that
     * did delete the key; it only loses the notification (waiters poll instead).
     */
    static final Script RELEASE = new Script("""
            local held = redis.call('GET', KEYS[1])
            if held == ARGV[1] then
              redis.call('DEL', KEYS[1])
              redis.pcall('PUBLISH', ARGV[2], ARGV[3])
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

    /**
     * Fencing write-back: KEYS[1] = lock key, KEYS[2] = counter; ARGV[1] = owner token, ARGV[2] = new token.
     * Raises the counter (never lowers it) only while the lock key holds our token. Returns 1, 0 held by
     * another value, -1 absent.
     */
    static final Script FENCE = new Script("""
            local held = redis.call('GET', KEYS[1])
            if held == ARGV[1] then
              local token = tonumber(ARGV[2])
              if tonumber(redis.call('GET', KEYS[2]) or '0') < token then
                redis.call('SET', KEYS[2], ARGV[2])
              end
              return 1
            end
            if not held then
              return -1
            end
            return 0
            """);

    /**
     * Who holds the key and for how long, in one step (the key cannot expire between the two reads). Returns
     * {} when absent, else {value, PTTL}. Not in {@link #ALL}: it serves an occasional query, so it is loaded
     * on first use (one NOSCRIPT round trip) rather than on every connect.
     */
    static final Script INSPECT = new Script("""
            local held = redis.call('GET', KEYS[1])
            if not held then
              return {}
            end
            return {held, redis.call('PTTL', KEYS[1])}
            """);

    static final Script[] ALL = {ACQUIRE, RELEASE, EXTEND, FENCE};

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
