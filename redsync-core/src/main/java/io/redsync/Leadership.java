package io.redsync;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Leader election over one lock: of all the processes running a {@code Leadership} for the same name,
 * at most one is leader at a time, and while it is, its {@link Action} runs.
 *
 * <pre>{@code
 * Leadership leadership = Leadership.builder(redsync, "scheduler")
 *         .listener(new Leadership.Listener() {
 *             public void elected(Lease lease) { log.info("leading, token {}", lease.fencingToken()); }
 *         })
 *         .build(lease -> {
 *             while (true) {              // the leader's work; runs until interrupted
 *                 lease.checkValid();
 *                 runDueJobs();
 *                 Thread.sleep(1_000);
 *             }
 *         });
 * leadership.start();                     // competes on its own thread
 * ...
 * leadership.stop();                      // steps down (releases) and stops competing
 * }</pre>
 *
 * <p><b>How it works.</b> A thread of its own (from the {@link Builder#threadFactory thread factory}; pass
 * {@code Thread.ofVirtual().factory()} on Java 21+ for a virtual thread) waits for the lock with unlimited
 * tries (woken when the holder releases), then runs the action with the lease kept alive, exactly as
 * {@link Mutex#executeLocked} does. If the keep-alive cannot extend the lease (its keys were deleted or
 * taken, or a quorum of nodes stopped answering), the lease is declared lost before its validity ends and
 * the action's thread is <em>interrupted</em>: the action must stop relying on the lock when interrupted
 * (blocking calls throw {@link InterruptedException}; loops check {@link Thread#isInterrupted()} or call
 * {@link Lease#checkValid()}). Then this instance competes again. When the action returns, or throws, this
 * instance steps down (releases the lease) and competes again; an action that throws is logged, and the
 * next attempt waits one retry delay, so that another instance can take over.
 *
 * <p><b>Safety.</b> Leadership is the lease: it ends when the lease's validity ends, whatever this process
 * believes. A process paused longer than the lost margin (a GC pause, SIGSTOP) may resume after another
 * instance became leader; its next {@link Lease#checkValid()} fails. Use the lease's fencing token
 * ({@link LockOptions#fencing()}) where storage must reject a former leader's late writes.
 *
 * <p>Thread-safe. One {@code Leadership} runs at most one competing thread; {@link #start()} it once.
 *
 * @since 0.1.0
 */
public final class Leadership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

    /**
     * The leader's work.
     *
     * @since 0.1.0
     */
    @FunctionalInterface
    public interface Action {
        /**
         * Runs while this instance is leader, on the leadership's thread. Return (or throw) to step down.
         *
         * @param lease the lease that makes this instance leader, kept alive while this runs
         * @throws Exception anything; it ends this term of leadership and is logged
         * @since 0.1.0
         */
        void lead(Lease lease) throws Exception;
    }

    /**
     * Observes leadership changes. Called on the leadership's thread; keep it quick, and do not throw (a
     * listener's exception is logged and ignored).
     *
     * @since 0.1.0
     */
    public interface Listener {
        /**
         * This instance became leader: the lease is held and kept alive, and the action is about to run.
         *
         * @param lease the lease
         * @since 0.1.0
         */
        default void elected(Lease lease) {
        }

        /**
         * This instance is no longer leader, and its action has finished. Called after the release was
         * attempted.
         *
         * @param lease the lease that made it leader
         * @param cause {@code null} when it stepped down (the action returned, or {@link #stop()}); a
         *              {@link LeaseLostException} when leadership was lost; otherwise what the action threw,
         *              or what the release reported (e.g. {@link LeaseExpiredException})
         * @since 0.1.0
         */
        default void revoked(Lease lease, Throwable cause) {
        }
    }

    /**
     * Collects the settings of a {@link Leadership}. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private final Redsync redsync;
        private final String name;
        private LockOptions options;
        private ThreadFactory threadFactory;
        private final List<Listener> listeners = new ArrayList<>();

        private Builder(Redsync redsync, String name) {
            this.redsync = Objects.requireNonNull(redsync, "redsync must not be null");
            this.name = Objects.requireNonNull(name, "name must not be null");
            if (name.isBlank()) {
                throw new IllegalArgumentException("leadership name must not be blank");
            }
        }

        /**
         * The lock options (default: the instance's {@link Redsync#defaults()}). Their expiry bounds how
         * long a dead leader blocks a takeover; their {@link LockOptions#keepAlive()} policy keeps the lease
         * ({@link KeepAlive#defaults()} when disabled). {@code tries} and {@code acquireTimeout} are
         * overridden: a candidate waits as long as it takes.
         *
         * @param options the options; must not preset a {@link LockOptions#value()}
         * @return this builder
         * @throws IllegalArgumentException if the options preset an owner token: every term needs a new one
         * @since 0.1.0
         */
        public Builder options(LockOptions options) {
            Objects.requireNonNull(options, "options must not be null");
            if (options.value().isPresent()) {
                throw new IllegalArgumentException("leadership options must not preset a value (owner token): each term "
                        + "of leadership needs a fresh one; remove value(...) from the options");
            }
            this.options = options;
            return this;
        }

        /**
         * Where the competing thread comes from (default: a platform daemon thread named
         * {@code redsync-leadership-<name>}), e.g. {@code Thread.ofVirtual().name("leader").factory()}.
         *
         * @param threadFactory the factory
         * @return this builder
         * @since 0.1.0
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory must not be null");
            return this;
        }

        /**
         * Adds a listener; listeners are called in the order added.
         *
         * @param listener the listener
         * @return this builder
         * @since 0.1.0
         */
        public Builder listener(Listener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
            return this;
        }

        /**
         * Builds the leadership; nothing runs until {@link Leadership#start()}.
         *
         * @param action the leader's work
         * @return the leadership, not started
         * @since 0.1.0
         */
        public Leadership build(Action action) {
            Objects.requireNonNull(action, "action must not be null");
            LockOptions base = options != null ? options : redsync.defaults();
            if (base.value().isPresent()) {
                throw new IllegalArgumentException("leadership needs a fresh owner token per term, but the instance's "
                        + "default options preset a value; pass options(...) without one");
            }
            LockOptions.Builder effective = base.toBuilder().tries(Integer.MAX_VALUE).acquireTimeout(null);
            if (!base.keepAlive().enabled()) {
                effective.keepAlive(KeepAlive.defaults());
            }
            ThreadFactory factory = threadFactory != null ? threadFactory : runnable -> {
                Thread thread = new Thread(runnable, "redsync-leadership-" + name);
                thread.setDaemon(true);
                return thread;
            };
            return new Leadership(redsync, name, effective.build(), factory, List.copyOf(listeners), action);
        }
    }

    /**
     * Starts building a leadership over the lock {@code name}.
     *
     * @param redsync the instance whose nodes hold the lock; it must outlive the leadership
     * @param name    the lock name, non-blank; every candidate must use the same name and key prefix
     * @return a builder
     * @throws IllegalArgumentException if {@code name} is blank
     * @since 0.1.0
     */
    public static Builder builder(Redsync redsync, String name) {
        return new Builder(redsync, name);
    }

    private final Redsync redsync;
    private final String name;
    private final LockOptions options;
    private final ThreadFactory threadFactory;
    private final List<Listener> listeners;
    private final Action action;
    private final Object lock = new Object();
    private Thread thread;
    private volatile boolean stopping;
    private volatile Lease current;

    private Leadership(Redsync redsync, String name, LockOptions options, ThreadFactory threadFactory, List<Listener> listeners,
                       Action action) {
        this.redsync = redsync;
        this.name = name;
        this.options = options;
        this.threadFactory = threadFactory;
        this.listeners = listeners;
        this.action = action;
    }

    /** @return the lock name @since 0.1.0 */
    public String name() {
        return name;
    }

    /**
     * Starts competing for leadership on a new thread; returns at once.
     *
     * @throws IllegalStateException if it was started before
     * @since 0.1.0
     */
    public void start() {
        synchronized (lock) {
            if (thread != null) {
                throw new IllegalStateException("leadership '" + name() + "' was started already; build a new one to compete again");
            }
            thread = threadFactory.newThread(this::compete);
            thread.start();
        }
    }

    /**
     * Stops competing and steps down: interrupts the action if this instance leads (or the wait for the
     * lock), waits until the action has finished and the lease was released (a wait for the lock releases
     * whatever its attempt in flight held), then returns. Idempotent; does nothing before {@link #start()}.
     * Called on the leadership's own thread (from the action or a listener) it does not wait: it marks the
     * leadership stopped, and the instance steps down when the action returns.
     * Releasing is bounded by the node timeout, but the wait for the action is as long as the action takes
     * to notice its interrupt.
     *
     * @throws InterruptedException if the calling thread is interrupted while waiting; the leadership
     *                              still stops in the background
     * @since 0.1.0
     */
    public void stop() throws InterruptedException {
        Thread running;
        synchronized (lock) {
            stopping = true;
            running = thread;
        }
        if (running == null || running == Thread.currentThread()) {
            return; // not started, or called by the action itself: it steps down when it returns
        }
        running.interrupt();
        running.join();
    }

    /**
     * {@link #stop()} for try-with-resources; an interrupt while waiting is kept as the thread's status.
     *
     * @since 0.1.0
     */
    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether this instance leads now, as far as it knows: it holds a lease that is still valid. Asks no
     * node.
     *
     * @return true while leader
     * @since 0.1.0
     */
    public boolean isLeader() {
        Lease lease = current;
        return lease != null && lease.isValid();
    }

    /**
     * The lease while this instance leads.
     *
     * @return the lease, or empty when not leader
     * @since 0.1.0
     */
    public Optional<Lease> lease() {
        Lease lease = current;
        return lease != null && lease.isValid() ? Optional.of(lease) : Optional.empty();
    }

    /** The competing thread: one term of leadership per iteration, until stopped. */
    private void compete() {
        try {
            while (!stopping) {
                Lease[] held = new Lease[1];
                Throwable cause = null;
                try {
                    // A mutex per term: on an instance closed under us this throws at once, ending the loop.
                    redsync.mutex(name, options).executeLocked(lease -> {
                        held[0] = lease;
                        current = lease;
                        listeners.forEach(l -> notify(() -> l.elected(lease)));
                        action.lead(lease);
                        return null;
                    });
                } catch (Throwable e) {
                    if (held[0] == null) { // the wait for the lock ended without a lease
                        if (e instanceof InterruptedException) {
                            continue; // stop(): the loop ends; any other interrupt: compete again
                        }
                        // With unlimited tries only a hopeless call fails: too many nodes refuse for a
                        // reason retrying cannot cure (credentials, permissions, a replica). Keep competing,
                        // slowly, so that the leadership resumes once the nodes are fixed; but not on an
                        // instance that was closed under us.
                        LOG.error("leadership '{}' cannot compete: {}", name(), e.toString());
                        if (e instanceof IllegalStateException) {
                            return;
                        }
                        pause(options.expiry());
                        continue;
                    }
                    if (e instanceof LeaseLostException) {
                        cause = e;
                        LOG.warn("leadership '{}' lost: {}", name(), e.getMessage());
                    } else if (!(e instanceof InterruptedException && stopping)) {
                        cause = e;
                        LOG.warn("leadership '{}' ended by the leader's action or its release", name(), e);
                    }
                }
                current = null;
                Lease lease = held[0];
                if (lease != null) {
                    Throwable reported = cause;
                    listeners.forEach(l -> notify(() -> l.revoked(lease, reported)));
                    if (cause != null && !(cause instanceof LeaseLostException) && !stopping) {
                        // A failing action would otherwise take the lock back at once, every time.
                        pause(options.retryDelay().delay(1));
                    }
                }
            }
        } finally {
            current = null;
            Thread.interrupted(); // stop()'s interrupt, if it arrived after the last wait
        }
    }

    private void pause(Duration duration) {
        try {
            TimeUnit.NANOSECONDS.sleep(Math.max(0, duration.toNanos()));
        } catch (InterruptedException e) {
            // stop(): the loop condition ends it
        }
    }

    private void notify(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("a listener of leadership '{}' failed", name(), e);
        }
    }
}
