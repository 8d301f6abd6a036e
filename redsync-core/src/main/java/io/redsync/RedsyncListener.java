package io.redsync;

import java.time.Duration;

/**
 * Observes what the locks of one {@link Redsync} instance do: lock calls starting and ending (granted, busy,
 * failed or cancelled, with their attempts and wait), releases, extensions, lost leases, and every command sent
 * to a node. Register it with {@link Redsync.Builder#listener(RedsyncListener)}; {@code redsync-micrometer}'s
 * {@code RedsyncMetrics} is one, turning the events into meters and Observations.
 *
 * <pre>{@code
 * Redsync redsync = Redsync.builder().uris(uris).listener(new RedsyncListener() {
 *     @Override
 *     public void leaseLost(LeaseLost event) {
 *         alerts.warn("lost " + event.lockName() + ": " + event.reason());
 *     }
 * }).build();
 * }</pre>
 *
 * <p>Every method has an empty default, so a listener implements only what it needs. Methods are called on the
 * library's threads (Lettuce's I/O threads, the timer, a worker, or the caller's thread for {@link #acquireStarted}):
 * keep them short and never block in them, as a slow listener delays the lock calls it is told about. A listener
 * that throws is logged (once per listener) and otherwise ignored: it never changes the outcome of a lock call.
 *
 * <p>Without a listener nothing is built or called: the events cost nothing.
 *
 * @since 0.1.0
 */
public interface RedsyncListener {

    /**
     * A lock call ({@code lock}, {@code tryLock} or their async forms) started, on the caller's thread, so
     * context bound to that thread (a tracing span) is current here.
     *
     * @param event the call
     * @since 0.1.0
     */
    default void acquireStarted(AcquireStarted event) {
    }

    /**
     * A lock call ended: granted, busy, failed or cancelled.
     *
     * @param event the outcome
     * @since 0.1.0
     */
    default void acquired(Acquired event) {
    }

    /**
     * A lease's release ended (on the nodes' answer): the lease is no longer held either way.
     *
     * @param event the outcome
     * @since 0.1.0
     */
    default void released(Released event) {
    }

    /**
     * An extension of a lease ended (by the keep-alive or an explicit {@code extend}).
     *
     * @param event the outcome
     * @since 0.1.0
     */
    default void extended(Extended event) {
    }

    /**
     * A lease was declared lost before its validity ended (see {@link LeaseLostException}).
     *
     * @param event the loss
     * @since 0.1.0
     */
    default void leaseLost(LeaseLost event) {
    }

    /**
     * One command to one node ended. A command the quorum stopped waiting for (past the node timeout) is reported
     * when the node answers or its connection gives up on it, with the latency it really had.
     *
     * @param event the call
     * @since 0.1.0
     */
    default void nodeCall(NodeCall event) {
    }

    /**
     * How a lock call ended.
     *
     * @since 0.1.0
     */
    enum AcquireOutcome {
        /** The lease was granted. */
        GRANTED,
        /** Another owner held the lock until the tries or the acquire timeout ran out ({@link LockTakenException}). */
        BUSY,
        /** The nodes failed or answered too late ({@link LockAcquisitionException}, or the instance closed). */
        FAILED,
        /** The caller cancelled or was interrupted; what the call held was released. */
        CANCELLED
    }

    /**
     * How a release ended.
     *
     * @since 0.1.0
     */
    enum ReleaseOutcome {
        /** Deleted on a quorum. */
        RELEASED,
        /** The keys were already gone on a majority ({@link LeaseExpiredException}). */
        EXPIRED,
        /** Another owner holds the lock ({@link LockNotHeldException}). */
        NOT_HELD,
        /** Too few nodes answered ({@link UnlockFailedException}); the keys expire with their TTL. */
        FAILED
    }

    /**
     * How an extension ended.
     *
     * @since 0.1.0
     */
    enum ExtendOutcome {
        /** Extended on a quorum with validity left. */
        EXTENDED,
        /** The nodes refused it for good (keys gone or another owner's): the lease is lost. */
        REFUSED,
        /** Too few nodes answered in time; a keep-alive retries while there is validity left. */
        FAILED
    }

    /**
     * Which command a node was sent.
     *
     * @since 0.1.0
     */
    enum NodeOperation {
        /** Connecting (and the same-server check). */
        CONNECT,
        /** An acquisition attempt ({@code SET NX PX}, or the acquire script on retries). */
        ACQUIRE,
        /** The fencing token's write-back. */
        FENCE,
        /** Compare-and-delete. */
        RELEASE,
        /** Compare-and-{@code PEXPIRE}. */
        EXTEND,
        /** A read of the key (validity checks, the keep-alive's looks, ownership by a preset value). */
        GET,
        /** A read of the key and its TTL ({@code Mutex.holderTtl()}). */
        INSPECT,
        /** Subscribing to release announcements. */
        SUBSCRIBE
    }

    /**
     * A lock call started.
     *
     * @param callId   identifies the call among all instances' calls; its {@link Acquired} event has the same id
     * @param lockName the lock's name (without the key prefix)
     * @since 0.1.0
     */
    record AcquireStarted(long callId, String lockName) {
    }

    /**
     * A lock call ended.
     *
     * @param callId    as in its {@link AcquireStarted}
     * @param lockName  the lock's name
     * @param outcome   how it ended
     * @param attempts  the attempts made (counted against {@code tries}, plus those made on a release announcement)
     * @param waitNanos from the call's start to its end
     * @param lease     the granted lease ({@link AcquireOutcome#GRANTED} only, else {@code null}); later events of
     *                  the lease carry the same object
     * @param failure   why it was not granted ({@code null} when granted)
     * @since 0.1.0
     */
    record Acquired(long callId, String lockName, AcquireOutcome outcome, int attempts, long waitNanos, Lease lease,
                    Throwable failure) {
        /**
         * The wait as a duration.
         *
         * @return {@link #waitNanos()}
         * @since 0.1.0
         */
        public Duration waitTime() {
            return Duration.ofNanos(waitNanos);
        }
    }

    /**
     * A release ended.
     *
     * @param lease         the lease, the object its {@link Acquired} event carried
     * @param outcome       how it ended
     * @param heldNanos     from the grant to the release's answer
     * @param latencyNanos  how long the release took
     * @param failure       why it did not release on a quorum ({@code null} when {@link ReleaseOutcome#RELEASED})
     * @since 0.1.0
     */
    record Released(Lease lease, ReleaseOutcome outcome, long heldNanos, long latencyNanos, Throwable failure) {
        /**
         * The lock's name.
         *
         * @return {@code lease().name()}
         * @since 0.1.0
         */
        public String lockName() {
            return lease.name();
        }
    }

    /**
     * An extension ended.
     *
     * @param lease        the lease
     * @param outcome      how it ended
     * @param latencyNanos how long it took
     * @param failure      why it failed ({@code null} when {@link ExtendOutcome#EXTENDED})
     * @since 0.1.0
     */
    record Extended(Lease lease, ExtendOutcome outcome, long latencyNanos, Throwable failure) {
        /**
         * The lock's name.
         *
         * @return {@code lease().name()}
         * @since 0.1.0
         */
        public String lockName() {
            return lease.name();
        }
    }

    /**
     * A lease was lost.
     *
     * @param lease     the lease
     * @param reason    why
     * @param heldNanos from the grant to the loss
     * @param loss      the exception the lease reports
     * @since 0.1.0
     */
    record LeaseLost(Lease lease, LeaseLostException.Reason reason, long heldNanos, LeaseLostException loss) {
        /**
         * The lock's name.
         *
         * @return {@code lease().name()}
         * @since 0.1.0
         */
        public String lockName() {
            return lease.name();
        }
    }

    /**
     * One node command ended.
     *
     * @param operation    the command
     * @param nodeIndex    the node's index, in the order the nodes were given to the builder
     * @param address      the node's address, without credentials
     * @param failure      the error, or {@code null} when the node answered (whatever it answered)
     * @param reason       the failure's class ({@link NodeException.Reason#of(Throwable)}), or {@code null}
     * @param latencyNanos from sending to the answer or error
     * @since 0.1.0
     */
    record NodeCall(NodeOperation operation, int nodeIndex, String address, Throwable failure, NodeException.Reason reason,
                    long latencyNanos) {
        /**
         * Whether the node answered.
         *
         * @return {@code failure() == null}
         * @since 0.1.0
         */
        public boolean succeeded() {
            return failure == null;
        }
    }
}
