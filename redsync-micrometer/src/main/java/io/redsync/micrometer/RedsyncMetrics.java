package io.redsync.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.ObservationView;
import io.redsync.Lease;
import io.redsync.LeaseLostException;
import io.redsync.RedsyncListener;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Meters and Observations of what redsync's locks do, as a {@link RedsyncListener}: register it on the instance.
 *
 * <pre>{@code
 * Redsync redsync = Redsync.builder()
 *     .uris(uris)
 *     .listener(RedsyncMetrics.builder(meterRegistry)
 *         .observationRegistry(observationRegistry)   // optional: spans through Micrometer Tracing
 *         .lockNameTag(LockNameTag.prefix(":"))       // optional: invoice:42 is tagged lock=invoice
 *         .build())
 *     .build();
 * }</pre>
 *
 * <p>Meters (all with the {@linkplain Builder#tags common tags}; {@code lock} only with a {@link LockNameTag} other
 * than the default {@link LockNameTag#none()}):
 * <table>
 * <caption>meters</caption>
 * <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 * <tr><td>{@code redsync.lock.acquire}</td><td>timer</td><td>outcome, lock</td><td>lock calls, from start to
 * granted, busy, failed or cancelled</td></tr>
 * <tr><td>{@code redsync.lock.attempts}</td><td>distribution summary</td><td>outcome, lock</td><td>attempts per
 * lock call</td></tr>
 * <tr><td>{@code redsync.lock.waiters}</td><td>gauge</td><td></td><td>lock calls in progress (attempting or
 * waiting for the lock)</td></tr>
 * <tr><td>{@code redsync.lock.held}</td><td>timer</td><td>outcome, lock</td><td>leases, from grant to release
 * ({@code released}, {@code expired}, {@code not_held}, {@code failed}) or loss ({@code lost})</td></tr>
 * <tr><td>{@code redsync.lease.active}</td><td>gauge</td><td></td><td>leases granted and not yet released, lost
 * or expired</td></tr>
 * <tr><td>{@code redsync.lease.extend}</td><td>timer</td><td>outcome, lock</td><td>extensions: {@code extended},
 * {@code refused}, {@code failed}</td></tr>
 * <tr><td>{@code redsync.lease.lost}</td><td>counter</td><td>reason, lock</td><td>leases lost:
 * {@code refused}, {@code unreachable}, {@code limit}</td></tr>
 * <tr><td>{@code redsync.node.calls}</td><td>timer</td><td>node, operation, outcome, reason</td><td>every node
 * command: node address, {@code acquire}/{@code release}/..., {@code success}/{@code error}, the error's class
 * ({@code none}, {@code unreachable}, {@code timeout}, ...)</td></tr>
 * </table>
 *
 * <p>With an {@link Builder#observationRegistry ObservationRegistry}, lock calls and holds are Observations
 * {@code redsync.lock.acquire} and {@code redsync.lock.held} (spans through Micrometer Tracing, with the lock name as
 * a high-cardinality value), and the two timers of those names come from the registry's meter handler (a
 * {@code DefaultMeterObservationHandler}, as Spring Boot configures), not from here, so they are never recorded
 * twice. Names and key values come from {@link LockAcquireObservationConvention} and
 * {@link LockHeldObservationConvention}, which you may replace.
 *
 * <p>Meters are registered once per distinct tag set; register one instance per registry (give two instances on
 * one registry distinct common tags, or share one between them). Thread-safe.
 *
 * @since 0.1.0
 */
public final class RedsyncMetrics implements RedsyncListener {
    static final String ACQUIRE = "redsync.lock.acquire";
    static final String HELD = "redsync.lock.held";
    static final String ATTEMPTS = "redsync.lock.attempts";
    static final String WAITERS = "redsync.lock.waiters";
    static final String ACTIVE = "redsync.lease.active";
    static final String EXTEND = "redsync.lease.extend";
    static final String LOST = "redsync.lease.lost";
    static final String NODE_CALLS = "redsync.node.calls";
    static final String OUTCOME = "outcome";
    static final String LOCK = "lock";

    private static final String[] HELD_OUTCOMES = {"released", "expired", "not_held", "failed", "lost"};

    private final MeterRegistry registry;
    private final ObservationRegistry observations;
    private final LockNameTag lockNameTag;
    private final boolean tagged;
    private final int maxLockTags;
    private final Set<String> lockTags = ConcurrentHashMap.newKeySet();
    private final Tags tags;
    private final LockAcquireObservationConvention acquireConvention;
    private final LockHeldObservationConvention heldConvention;

    private final AtomicInteger waiters = new AtomicInteger();
    /** Lock calls under way, by call id: their Observations (only with an ObservationRegistry). */
    private final Map<Long, Observation> acquiring = new ConcurrentHashMap<>();
    /** Leases granted and not ended yet (identity keys: a lease does not override equals). */
    private final Map<Lease, Held> held = new ConcurrentHashMap<>();
    private volatile int pruneAt = 1024;

    // The meters without a lock tag, registered up front: no lookup per event, and dashboards see zeros.
    private final Timer[] acquireTimers;
    private final DistributionSummary[] attemptSummaries;
    private final Timer[] extendTimers;
    private final Counter[] lostCounters;
    private final Timer[] heldTimers;
    /** Per node address: its successful commands' timers by operation. */
    private final Map<String, Timer[]> nodeTimers = new ConcurrentHashMap<>();

    /** A lease being held: since when, its tag, its Observation (or null). */
    private record Held(long grantedNanos, String lockTag, Observation observation) {
    }

    /**
     * Meters only, no lock-name tag, no Observations: what a framework registers when it finds a
     * {@link MeterRegistry} (see {@link #builder(MeterRegistry)} for more).
     *
     * @param registry where the meters go
     * @since 0.1.0
     */
    public RedsyncMetrics(MeterRegistry registry) {
        this(builder(registry));
    }

    private RedsyncMetrics(Builder builder) {
        this.registry = builder.registry;
        this.observations = builder.observations;
        this.lockNameTag = builder.lockNameTag;
        this.tagged = !(lockNameTag instanceof NoLockTag);
        this.maxLockTags = builder.maxLockTags;
        this.tags = builder.tags;
        this.acquireConvention = builder.acquireConvention;
        this.heldConvention = builder.heldConvention;

        Gauge.builder(WAITERS, waiters, AtomicInteger::get).tags(tags).strongReference(true)
                .description("Lock calls in progress: attempting or waiting for the lock").register(registry);
        Gauge.builder(ACTIVE, this, RedsyncMetrics::activeLeases).tags(tags).strongReference(true)
                .description("Leases granted and not yet released, lost or expired").register(registry);
        AcquireOutcome[] acquireOutcomes = AcquireOutcome.values();
        ExtendOutcome[] extendOutcomes = ExtendOutcome.values();
        LeaseLostException.Reason[] reasons = LeaseLostException.Reason.values();
        acquireTimers = new Timer[acquireOutcomes.length];
        attemptSummaries = new DistributionSummary[acquireOutcomes.length];
        extendTimers = new Timer[extendOutcomes.length];
        lostCounters = new Counter[reasons.length];
        heldTimers = new Timer[HELD_OUTCOMES.length];
        if (!tagged) {
            for (AcquireOutcome o : acquireOutcomes) {
                if (observations == null) {
                    acquireTimers[o.ordinal()] = acquireTimer(lower(o), null);
                }
                attemptSummaries[o.ordinal()] = attempts(lower(o), null);
            }
            for (ExtendOutcome o : extendOutcomes) {
                extendTimers[o.ordinal()] = extendTimer(lower(o), null);
            }
            for (LeaseLostException.Reason r : reasons) {
                lostCounters[r.ordinal()] = lost(lower(r), null);
            }
            if (observations == null) {
                for (int i = 0; i < HELD_OUTCOMES.length; i++) {
                    heldTimers[i] = heldTimer(HELD_OUTCOMES[i], null);
                }
            }
        }
    }

    /**
     * A builder for the options: Observations, the lock-name tag, common tags, conventions.
     *
     * @param registry where the meters go
     * @return a new builder
     * @since 0.1.0
     */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    // ---- events ----

    /**
     * Counts the call as a waiter and, with an ObservationRegistry, starts its {@code redsync.lock.acquire}
     * Observation (on the caller's thread: the current Observation becomes its parent).
     *
     * @param event the call
     * @since 0.1.0
     */
    @Override
    public void acquireStarted(AcquireStarted event) {
        waiters.incrementAndGet();
        if (observations != null) {
            LockAcquireContext context = new LockAcquireContext(event.lockName(), lockTag(event.lockName()));
            Observation observation = Observation.createNotStarted(acquireConvention, DefaultLockAcquireObservationConvention.INSTANCE,
                    () -> context, observations).start();
            acquiring.put(event.callId(), observation);
        }
    }

    /**
     * Records the call's wait and attempts, ends its Observation and, when granted, starts the hold.
     *
     * @param event the outcome
     * @since 0.1.0
     */
    @Override
    public void acquired(Acquired event) {
        waiters.decrementAndGet();
        String lockTag = lockTag(event.lockName());
        String outcome = lower(event.outcome());
        attempts(event.outcome(), outcome, lockTag).record(event.attempts());
        ObservationView parent = null;
        Observation observation = observations == null ? null : acquiring.remove(event.callId());
        if (observation != null) {
            ((LockAcquireContext) observation.getContext()).end(event.outcome(), event.attempts());
            if (event.outcome() == AcquireOutcome.FAILED && event.failure() != null) {
                observation.error(event.failure());
            }
            parent = observation.getContextView().getParentObservation();
            observation.stop();
        } else if (observations == null) {
            Timer timer = tagged ? acquireTimer(outcome, lockTag) : acquireTimers[event.outcome().ordinal()];
            timer.record(event.waitNanos(), TimeUnit.NANOSECONDS);
        }
        if (event.outcome() == AcquireOutcome.GRANTED && event.lease() != null) {
            hold(event.lease(), lockTag, parent);
        }
    }

    private void hold(Lease lease, String lockTag, ObservationView parent) {
        Observation observation = null;
        if (observations != null) {
            LockHeldContext context = new LockHeldContext(lease, lockTag);
            observation = Observation.createNotStarted(heldConvention, DefaultLockHeldObservationConvention.INSTANCE, () -> context,
                    observations);
            if (parent != null) {
                // A sibling of the lock call's Observation, under the caller's (granted on an I/O thread, where
                // nothing is current).
                context.setParentObservation(parent);
            }
            observation.start();
        }
        held.put(lease, new Held(System.nanoTime(), lockTag, observation));
        if (held.size() > pruneAt) {
            // Leases left to expire without a release would otherwise stay here.
            activeLeases();
            pruneAt = Math.max(1024, 2 * held.size());
        }
    }

    /**
     * Ends the hold: {@code redsync.lock.held} with the release's outcome.
     *
     * @param event the outcome
     * @since 0.1.0
     */
    @Override
    public void released(Released event) {
        endHold(event.lease(), lower(event.outcome()), event.heldNanos(), null);
    }

    /**
     * Records {@code redsync.lease.extend}.
     *
     * @param event the outcome
     * @since 0.1.0
     */
    @Override
    public void extended(Extended event) {
        Timer timer = tagged ? extendTimer(lower(event.outcome()), lockTag(event.lockName())) : extendTimers[event.outcome().ordinal()];
        timer.record(event.latencyNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Counts {@code redsync.lease.lost} and ends the hold as {@code lost}.
     *
     * @param event the loss
     * @since 0.1.0
     */
    @Override
    public void leaseLost(LeaseLost event) {
        Counter counter = tagged ? lost(lower(event.reason()), lockTag(event.lockName())) : lostCounters[event.reason().ordinal()];
        counter.increment();
        endHold(event.lease(), "lost", event.heldNanos(), event.loss());
    }

    /**
     * Records {@code redsync.node.calls}.
     *
     * @param event the call
     * @since 0.1.0
     */
    @Override
    public void nodeCall(NodeCall event) {
        Timer timer;
        if (event.succeeded()) {
            Timer[] byOperation = nodeTimers.computeIfAbsent(event.address(), a -> new Timer[NodeOperation.values().length]);
            timer = byOperation[event.operation().ordinal()];
            if (timer == null) {
                timer = nodeTimer(event.address(), event.operation(), "success", "none");
                byOperation[event.operation().ordinal()] = timer; // a race registers the same meter twice: harmless
            }
        } else {
            timer = nodeTimer(event.address(), event.operation(), "error", event.reason() == null ? "other" : lower(event.reason()));
        }
        timer.record(event.latencyNanos(), TimeUnit.NANOSECONDS);
    }

    // ---- holds ----

    private void endHold(Lease lease, String outcome, long heldNanos, Throwable error) {
        if (lease == null) {
            return;
        }
        Held h = held.remove(lease);
        if (h == null) {
            return; // ended already (lost, then released), or never granted through a lock call (a preset value's)
        }
        if (h.observation() != null) {
            ((LockHeldContext) h.observation().getContext()).end(outcome);
            if (error != null) {
                h.observation().error(error);
            }
            h.observation().stop();
        } else {
            heldTimer(outcome, h.lockTag()).record(heldNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The gauge's value: leases held now. Those that ran out without a release end here, as {@code expired}. */
    private double activeLeases() {
        for (Map.Entry<Lease, Held> e : held.entrySet()) {
            Lease lease = e.getKey();
            if (!lease.isValid() && !lease.isReleased() && !lease.isLost()) {
                endHold(lease, "expired", System.nanoTime() - e.getValue().grantedNanos(), null);
            }
        }
        return held.size();
    }

    // ---- meters ----

    private DistributionSummary attempts(AcquireOutcome outcome, String name, String lockTag) {
        return tagged ? attempts(name, lockTag) : attemptSummaries[outcome.ordinal()];
    }

    private Timer acquireTimer(String outcome, String lockTag) {
        return Timer.builder(ACQUIRE).description("Lock calls, from their start to their outcome")
                .tags(outcomeTags(outcome, lockTag)).register(registry);
    }

    private DistributionSummary attempts(String outcome, String lockTag) {
        return DistributionSummary.builder(ATTEMPTS).description("Attempts per lock call")
                .tags(outcomeTags(outcome, lockTag)).register(registry);
    }

    private Timer heldTimer(String outcome, String lockTag) {
        if (lockTag == null && !tagged) {
            for (int i = 0; i < HELD_OUTCOMES.length; i++) {
                if (HELD_OUTCOMES[i].equals(outcome) && heldTimers[i] != null) {
                    return heldTimers[i];
                }
            }
        }
        return Timer.builder(HELD).description("Leases, from their grant to their release, loss or expiry")
                .tags(outcomeTags(outcome, lockTag)).register(registry);
    }

    private Timer extendTimer(String outcome, String lockTag) {
        return Timer.builder(EXTEND).description("Lease extensions (keep-alive and explicit)")
                .tags(outcomeTags(outcome, lockTag)).register(registry);
    }

    private Counter lost(String reason, String lockTag) {
        Tags t = tags.and("reason", reason);
        return Counter.builder(LOST).description("Leases lost before their validity ended")
                .tags(lockTag == null ? t : t.and(LOCK, lockTag)).register(registry);
    }

    private Timer nodeTimer(String address, NodeOperation operation, String outcome, String reason) {
        return Timer.builder(NODE_CALLS).description("Commands sent to the Redis nodes")
                .tags(tags.and("node", address, "operation", lower(operation), OUTCOME, outcome, "reason", reason))
                .register(registry);
    }

    private Tags outcomeTags(String outcome, String lockTag) {
        Tags t = tags.and(OUTCOME, outcome);
        return lockTag == null ? t : t.and(LOCK, lockTag);
    }

    /** The {@code lock} tag of a name: null without one; at most {@code maxLockTags} distinct values, then "other". */
    String lockTag(String lockName) {
        if (!tagged) {
            return null;
        }
        String value;
        try {
            value = lockNameTag.tagValue(lockName);
        } catch (RuntimeException e) {
            value = null;
        }
        if (value == null || value.isBlank()) {
            return LockNameTag.OTHER;
        }
        if (lockTags.contains(value)) {
            return value;
        }
        synchronized (lockTags) {
            if (lockTags.size() < maxLockTags) {
                lockTags.add(value);
                return value;
            }
        }
        return LockNameTag.OTHER;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return "RedsyncMetrics[lockNameTag=" + lockNameTag + ", observations=" + (observations != null) + "]";
    }

    /**
     * Options of {@link RedsyncMetrics}. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private final MeterRegistry registry;
        private ObservationRegistry observations;
        private LockNameTag lockNameTag = LockNameTag.none();
        private int maxLockTags = 100;
        private Tags tags = Tags.empty();
        private LockAcquireObservationConvention acquireConvention;
        private LockHeldObservationConvention heldConvention;

        private Builder(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry must not be null");
        }

        /**
         * Makes lock calls and holds Observations ({@code redsync.lock.acquire}, {@code redsync.lock.held}), for spans
         * through Micrometer Tracing; the timers of those names then come from the registry's meter handler.
         *
         * @param registry the application's ObservationRegistry
         * @return this builder
         * @since 0.1.0
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.observations = Objects.requireNonNull(registry, "registry must not be null");
            return this;
        }

        /**
         * How lock names become the {@code lock} tag (default {@link LockNameTag#none()}: no tag).
         *
         * @param lockNameTag the mapping
         * @return this builder
         * @since 0.1.0
         */
        public Builder lockNameTag(LockNameTag lockNameTag) {
            this.lockNameTag = Objects.requireNonNull(lockNameTag, "lockNameTag must not be null");
            return this;
        }

        /**
         * The most distinct {@code lock} tag values (default 100); names mapped to others are tagged
         * {@value LockNameTag#OTHER}.
         *
         * @param maxLockTags at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         * @since 0.1.0
         */
        public Builder maxLockTags(int maxLockTags) {
            if (maxLockTags < 1) {
                throw new IllegalArgumentException("maxLockTags must be >= 1, was " + maxLockTags
                        + "; use LockNameTag.none() for no lock tag");
            }
            this.maxLockTags = maxLockTags;
            return this;
        }

        /**
         * Tags added to every meter, e.g. {@code Tags.of("redsync", "billing")} to tell two instances apart.
         *
         * @param tags the tags
         * @return this builder
         * @since 0.1.0
         */
        public Builder tags(Iterable<Tag> tags) {
            this.tags = this.tags.and(Objects.requireNonNull(tags, "tags must not be null"));
            return this;
        }

        /**
         * Replaces the default naming of the {@code redsync.lock.acquire} Observation.
         *
         * @param convention e.g. a subclass of {@link DefaultLockAcquireObservationConvention}
         * @return this builder
         * @since 0.1.0
         */
        public Builder acquireConvention(LockAcquireObservationConvention convention) {
            this.acquireConvention = Objects.requireNonNull(convention, "convention must not be null");
            return this;
        }

        /**
         * Replaces the default naming of the {@code redsync.lock.held} Observation.
         *
         * @param convention e.g. a subclass of {@link DefaultLockHeldObservationConvention}
         * @return this builder
         * @since 0.1.0
         */
        public Builder heldConvention(LockHeldObservationConvention convention) {
            this.heldConvention = Objects.requireNonNull(convention, "convention must not be null");
            return this;
        }

        /**
         * Registers the meters and returns the listener.
         *
         * @return the listener, for {@code Redsync.Builder.listener(...)}
         * @since 0.1.0
         */
        public RedsyncMetrics build() {
            return new RedsyncMetrics(this);
        }
    }
}
