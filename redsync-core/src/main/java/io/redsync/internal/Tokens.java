package io.redsync.internal;

import io.redsync.LockOptions;
import io.redsync.spi.Ownership;

import java.util.function.Supplier;

/**
 * Owner tokens: each lock call stores a token no other call stores, whatever the options say. The library's
 * own generator gives 128 random bits, used as they are. A preset {@link LockOptions#value()} is shared by
 * every call of the mutex and a custom generator may repeat itself (a host name), so their value gets a
 * per-call suffix: {@code value + '#' + 16 random bytes in base64}.
 *
 * <p>Everything the engine does with a call's token (refresh on retry, cleanup after a failed attempt, the
 * lease's extend and release) matches it exactly, so it touches only keys that call wrote. Only the
 * operations that promise to act by a preset value for whoever holds it ({@code mutex.unlock()},
 * {@code extend()}, {@code valid()} without a lease of their own) match the calls made with it:
 * {@link #madeWith}.
 */
final class Tokens {
    static final char SEPARATOR = '#';
    /** The library's generator: its values are unique, so they need no suffix. */
    private static final Supplier<String> RANDOM = LockOptions.defaults().valueGenerator();
    /** Length of a suffix: 16 bytes in padded base64. */
    private static final int SUFFIX_LENGTH = 24;

    private Tokens() {
    }

    /** The token of a new lock call of lock {@code lockName}. */
    static String forCall(LockOptions options, String lockName) {
        if (options.value().isPresent()) {
            return options.value().get() + SEPARATOR + RANDOM.get();
        }
        Supplier<String> generator = options.valueGenerator();
        String value = generator.get();
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("valueGenerator returned " + (value == null ? "null" : "a blank value")
                    + " for lock '" + lockName + "'; it must return a non-blank owner token");
        }
        return generator == RANDOM ? value : value + SEPARATOR + RANDOM.get();
    }

    /** Whether {@code held} (a key's value, null if absent) is {@code preset} itself or a lock call's token made from it. */
    static boolean madeWith(String preset, String held) {
        return held != null && (held.equals(preset) || held.length() == preset.length() + 1 + SUFFIX_LENGTH
                && held.startsWith(preset) && held.charAt(preset.length()) == SEPARATOR);
    }

    /** What a key holding {@code held} means for whoever holds {@code preset}. */
    static Ownership ownership(String preset, String held) {
        return held == null ? Ownership.ABSENT : madeWith(preset, held) ? Ownership.MINE : Ownership.OTHER;
    }
}
