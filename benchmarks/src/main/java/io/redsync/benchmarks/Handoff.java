package io.redsync.benchmarks;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Workload 6 (issue 18): a crowd of waiters on a few names, each waiter looping lock, hold a few ms, release,
 * lock again, so every name always has a holder and a queue. What is measured is the hand-off: the wait from
 * one holder starting its release to the next acquisition of that name by another waiter, and what Redis
 * serves per release.
 */
final class Handoff {
    private Handoff() {
    }

    /** A crowd that runs until {@link #stop}: its waiters record into the {@link Recorder} given at creation. */
    interface Crowd {
        /** Launches every waiter; returns at once. */
        void start();

        /**
         * Stops the crowd: waiters stop asking; how they end is the library's (see the implementations).
         *
         * @return how the stop went, for the report ("cancelled in 120 ms", "drained in 2 s", "12 still waiting")
         */
        String stop(long boundMillis) throws Exception;
    }

    /**
     * What the waiters of one crowd did. Only events inside the measuring window count; the per-name
     * "inside" counters check mutual exclusion at all times.
     */
    static final class Recorder {
        private final AtomicLongArray lastRelease;
        private final AtomicIntegerArray lastHolder;
        private final AtomicIntegerArray inside;
        final Histogram handoffWait = new SynchronizedHistogram(3_600_000_000_000L, 3);
        final LongAdder acquisitions = new LongAdder();
        final LongAdder handoffs = new LongAdder();
        final LongAdder releases = new LongAdder();
        final LongAdder gaveUp = new LongAdder();
        final AtomicLong violations = new AtomicLong();
        final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        private volatile long windowStart = Long.MAX_VALUE;
        private volatile boolean windowOpen;

        Recorder(int names) {
            lastRelease = new AtomicLongArray(names);
            lastHolder = new AtomicIntegerArray(names);
            inside = new AtomicIntegerArray(names);
            for (int i = 0; i < names; i++) {
                lastHolder.set(i, -1);
            }
        }

        void openWindow() {
            windowStart = System.nanoTime();
            windowOpen = true;
        }

        void closeWindow() {
            windowOpen = false;
        }

        private boolean counting(long now) {
            return windowOpen && now - windowStart >= 0;
        }

        /** Waiter {@code waiter} holds name {@code name} from now. */
        void acquired(int name, int waiter) {
            long now = System.nanoTime();
            if (inside.incrementAndGet(name) != 1) {
                violations.incrementAndGet();
            }
            int previous = lastHolder.get(name);
            long released = lastRelease.get(name);
            if (counting(now)) {
                acquisitions.increment();
                if (previous >= 0 && previous != waiter && released - windowStart >= 0) {
                    handoffs.increment();
                    handoffWait.recordValue(Math.max(0, now - released));
                }
            }
        }

        /** Waiter {@code waiter} is about to release {@code name}. */
        void releasing(int name, int waiter) {
            if (inside.get(name) != 1) {
                violations.incrementAndGet();
            }
            lastHolder.set(name, waiter);
            long now = System.nanoTime();
            lastRelease.set(name, now);
            inside.decrementAndGet(name);
            if (counting(now)) {
                releases.increment();
            }
        }

        void gaveUp() {
            if (counting(System.nanoTime())) {
                gaveUp.increment();
            }
        }

        void error(String type) {
            errors.computeIfAbsent(type, t -> new LongAdder()).increment();
        }
    }

    /**
     * Redisson: {@code RLock.tryLockAsync(wait, lease, unit, threadId)} with one synthetic thread id per
     * waiter, so no thread is parked per waiter (Redisson's lock owner is "client id : thread id"; the async
     * API takes the id as an argument). Callbacks run on Redisson's Netty threads; holds and re-queues on two
     * scheduler threads. Stop: waiters holding release at once and stop; waiters still queued drain (each
     * gets the lock once and releases it at once) within the bound.
     */
    static Crowd redisson(RedissonClient client, List<String> names, int waiters, long holdMillis, long waitMillis, Recorder rec) {
        return new Crowd() {
            final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, Contenders.platformThreads("crowd-redisson"));
            final CountDownLatch done = new CountDownLatch(waiters);
            volatile boolean stopped;

            @Override
            public void start() {
                for (int i = 0; i < waiters; i++) {
                    int waiter = i;
                    int name = i % names.size();
                    RLock lock = client.getLock(names.get(name));
                    // Thread ids far from real ones: the owner is the client id plus this number.
                    long threadId = 1_000_000_000L + i;
                    scheduler.execute(() -> next(lock, name, waiter, threadId));
                }
            }

            private void next(RLock lock, int name, int waiter, long threadId) {
                if (stopped) {
                    done.countDown();
                    return;
                }
                lock.tryLockAsync(waitMillis, Contenders.LEASE_MILLIS, TimeUnit.MILLISECONDS, threadId).whenComplete((ok, e) -> {
                    if (e != null) {
                        rec.error(e.getClass().getSimpleName());
                        scheduler.execute(() -> next(lock, name, waiter, threadId));
                    } else if (!ok) {
                        rec.gaveUp();
                        scheduler.execute(() -> next(lock, name, waiter, threadId));
                    } else {
                        rec.acquired(name, waiter);
                        scheduler.schedule(() -> {
                            rec.releasing(name, waiter);
                            lock.unlockAsync(threadId).whenComplete((v, f) -> {
                                if (f != null) {
                                    rec.error("release: " + f.getClass().getSimpleName());
                                }
                                scheduler.execute(() -> next(lock, name, waiter, threadId));
                            });
                        }, stopped ? 0 : holdMillis, TimeUnit.MILLISECONDS);
                    }
                });
            }

            @Override
            public String stop(long boundMillis) throws InterruptedException {
                long t0 = System.nanoTime();
                stopped = true;
                boolean all = done.await(boundMillis, TimeUnit.MILLISECONDS);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                scheduler.shutdown();
                return all ? "drained in " + ms + " ms" : done.getCount() + " still waiting after " + ms + " ms";
            }
        };
    }

    /** An uncontended lock+unlock loop on its own name, on its own thread, with a short pause between cycles. */
    static final class Probe {
        private final Contenders.LockCycle cycle;
        private final String name;
        private volatile boolean stop;
        private Thread thread;
        final Histogram latency = BenchSupport.histogram();
        volatile long cycles;
        volatile long failures;

        Probe(Contenders.LockCycle cycle, String name) {
            this.cycle = cycle;
            this.name = name;
        }

        Probe start() {
            thread = new Thread(() -> {
                while (!stop) {
                    long t0 = System.nanoTime();
                    boolean ok;
                    try {
                        ok = cycle.cycle(name);
                    } catch (Exception e) {
                        ok = false;
                    }
                    latency.recordValue(System.nanoTime() - t0);
                    cycles++;
                    if (!ok) {
                        failures++;
                    }
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "probe");
            thread.setDaemon(true);
            thread.start();
            return this;
        }

        /** Stops after the cycle in progress (bounded: a cycle that hangs 60 s is interrupted). */
        Probe stop() throws InterruptedException {
            stop = true;
            thread.join(60_000);
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(10_000);
            }
            return this;
        }
    }

    /** One contender at one crowd size; {@code cpu}: CPU µs per hand-off in the window, by thread group (see {@link CpuUse}). */
    record Result(String contender, int waiters, int names, long holdMillis, long windowNanos, long acquisitions, long handoffs,
                  long releases, Histogram handoffWait, long redisCommands, long probeCommands, String topCommands, long gaveUp,
                  Map<String, Long> errors, long violations, Histogram probeAlone, long probeAloneFailures,
                  double probeBeforeP99Ms, double probeAfterP99Ms, Histogram probeCrowd, long probeCrowdFailures, Histogram floorAlone, Histogram floorCrowd,
                  String stop, double load, String cpu) {
        double handoffsPerSecond() {
            return handoffs * 1e9 / windowNanos;
        }

        double commandsPerRelease() {
            return releases == 0 ? Double.NaN : (double) (redisCommands - probeCommands) / releases;
        }

        double probeRatio() {
            return BenchSupport.micros(probeCrowd, 99) / BenchSupport.micros(probeAlone, 99);
        }

        /** The same ratio for the floor probe: what the crowd does to raw Lettuce's two round trips. */
        double floorRatio() {
            return BenchSupport.micros(floorCrowd, 99) / BenchSupport.micros(floorAlone, 99);
        }

        long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    static Map<String, Long> snapshot(Map<String, LongAdder> errors) {
        Map<String, Long> out = new java.util.TreeMap<>();
        errors.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    static List<String> names(String prefix, int count) {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(prefix + i);
        }
        return out;
    }
}
