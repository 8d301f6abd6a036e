package io.redsync.spi;

/**
 * What a node found under a lock key when asked to release or extend it with a value.
 *
 * @since 0.1.0
 */
public enum Ownership {
    /** The key held the given value; the operation took effect. */
    MINE,
    /** The key did not exist (expired or deleted); nothing changed. */
    ABSENT,
    /** The key held another owner's value; nothing changed. */
    OTHER
}
