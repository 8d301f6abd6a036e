package io.redsync.internal;

/**
 * One node's answer to one operation, the only vocabulary the engine counts in. Each operation maps its replies
 * onto it ({@link Operation#vote}); {@link io.redsync.Votes} reports the same four columns to users.
 */
enum Vote {
    /** The node did what was asked for us: set, refreshed, deleted or extended our key, or holds our value. */
    GRANTED,
    /** Another owner's key stands on the node. */
    HELD_BY_OTHER,
    /** No key stands on the node (or the node was not asked: a fence skips nodes that did not grant). */
    ABSENT,
    /** No answer within the node timeout, or an error. */
    FAILED
}
