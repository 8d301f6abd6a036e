package io.redsync.benchmarks;

import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.Mutex;
import io.redsync.Redsync;
import io.redsync.RedsyncException;
import org.HdrHistogram.Histogram;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Workload 3: several workers on ONE lock name, each holding it for a short busy critical section. Every
 * holder records itself on entry and checks before unlocking that it is still the only one inside; handoffs
 * (an acquisition by a worker other than the previous holder) and the wait from the previous holder's release
 * to that acquisition are measured with {@link System#nanoTime()} in this JVM. Failed lock calls are counted
 * and timed, never dropped.
 */
final class Contention {
    private Contention() {
    }

    /** A lock call that gave up (the library reported failure); the worker counts it and tries again. */
    static final class Failed extends Exception {
        private static final long serialVersionUID = 1L;

        Failed(Throwable cause) {
            super(cause);
        }
    }

    /** One worker's view of the lock. Not shared between workers. */
    interface Holder {
        void acquire() throws Failed, InterruptedException;

        void release() throws Exception;
    }

    interface Holders {
        Holder forWorker(int worker);
    }

    static Holders ours(Redsync redsync, String name, LockOptions options) {
        return worker -> {
            Mutex mutex = redsync.mutex(name, options);
            return new Holder() {
                private Lease lease;

                @Override
                public void acquire() throws Failed, InterruptedException {
                    try {
                        lease = mutex.lock();
                    } catch (RedsyncException e) {
                        throw new Failed(e);
                    }
                }

                @Override
                public void release() {
                    lease.release();
                }
            };
        };
    }

    static Holders redisson(RedissonClient client, String name) {
        return worker -> {
            RLock lock = client.getLock(name);
            return new Holder() {
                @Override
                public void acquire() throws Failed, InterruptedException {
                    try {
                        lock.lockInterruptibly(Contenders.LEASE_MILLIS, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        throw e;
                    } catch (RuntimeException e) {
                        throw new Failed(e);
                    }
                }

                @Override
                public void release() {
                    lock.unlock();
                }
            };
        };
    }

    /** One contender's run. */
    record Result(long elapsedNanos, long[] acquisitions, long handoffs, Histogram handoffWait, Histogram acquireWait,
                  long failures, Histogram failedWait, long violations, long releaseFailures, boolean stoppedCleanly) {
        long totalAcquisitions() {
            long sum = 0;
            for (long a : acquisitions) {
                sum += a;
            }
            return sum;
        }

        double handoffsPerSecond() {
            return handoffs * 1e9 / elapsedNanos;
        }

        double acquisitionsPerSecond() {
            return totalAcquisitions() * 1e9 / elapsedNanos;
        }

        /** The busiest worker's share of all acquisitions (1/workers is fair). */
        double busiestShare() {
            long max = 0;
            for (long a : acquisitions) {
                max = Math.max(max, a);
            }
            long total = totalAcquisitions();
            return total == 0 ? Double.NaN : (double) max / total;
        }
    }

    /**
     * Runs {@code workers} threads against one lock for {@code durationNanos}. Only acquisitions before the
     * deadline count; at the deadline workers stop asking, and the ones still waiting finish their call (it
     * succeeds quickly once the others stopped) so that no lock is left held.
     */
    static Result run(Holders holders, int workers, long durationNanos, long holdNanos) throws InterruptedException {
        AtomicInteger inside = new AtomicInteger();
        AtomicLong violations = new AtomicLong();
        // Written by the holder before it releases; read by the next holder after it acquired.
        int[] lastHolder = {-1};
        long[] lastRelease = {0};
        Object order = new Object();
        long[] acquisitions = new long[workers];
        long[] handoffs = new long[workers];
        long[] failures = new long[workers];
        long[] releaseFailures = new long[workers];
        Histogram[] handoffWait = new Histogram[workers];
        Histogram[] acquireWait = new Histogram[workers];
        Histogram[] failedWait = new Histogram[workers];
        boolean[] stop = {false};
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        long deadline = start + durationNanos;
        for (int w = 0; w < workers; w++) {
            int me = w;
            handoffWait[me] = BenchSupport.histogram();
            acquireWait[me] = BenchSupport.histogram();
            failedWait[me] = BenchSupport.histogram();
            Holder holder = holders.forWorker(me);
            Thread t = new Thread(() -> {
                while (true) {
                    synchronized (stop) {
                        if (stop[0]) {
                            return;
                        }
                    }
                    long t0 = System.nanoTime();
                    try {
                        holder.acquire();
                    } catch (Failed e) {
                        long t1 = System.nanoTime();
                        if (t0 - deadline < 0) {
                            failures[me]++;
                            failedWait[me].recordValue(t1 - t0);
                        }
                        continue;
                    } catch (InterruptedException e) {
                        return;
                    }
                    long got = System.nanoTime();
                    if (inside.incrementAndGet() != 1) {
                        violations.incrementAndGet();
                    }
                    int previous;
                    long released;
                    synchronized (order) {
                        previous = lastHolder[0];
                        released = lastRelease[0];
                    }
                    if (got - deadline < 0) {
                        acquisitions[me]++;
                        acquireWait[me].recordValue(got - t0);
                        if (previous >= 0 && previous != me) {
                            handoffs[me]++;
                            handoffWait[me].recordValue(Math.max(0, got - released));
                        }
                    }
                    BenchSupport.busyWait(holdNanos);
                    if (inside.get() != 1) {
                        violations.incrementAndGet();
                    }
                    synchronized (order) {
                        lastHolder[0] = me;
                        lastRelease[0] = System.nanoTime();
                    }
                    inside.decrementAndGet();
                    try {
                        holder.release();
                    } catch (Exception e) {
                        releaseFailures[me]++;
                    }
                }
            }, "contender-" + me);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        synchronized (stop) {
            stop[0] = true;
        }
        boolean clean = true;
        for (Thread t : threads) {
            t.join(60_000);
            if (t.isAlive()) {
                clean = false;
                t.interrupt();
                t.join(10_000);
            }
        }
        Histogram hw = BenchSupport.histogram();
        Histogram aw = BenchSupport.histogram();
        Histogram fw = BenchSupport.histogram();
        long h = 0;
        long f = 0;
        long rf = 0;
        for (int w = 0; w < workers; w++) {
            hw.add(handoffWait[w]);
            aw.add(acquireWait[w]);
            fw.add(failedWait[w]);
            h += handoffs[w];
            f += failures[w];
            rf += releaseFailures[w];
        }
        return new Result(durationNanos, acquisitions, h, hw, aw, f, fw, violations.get(), rf, clean);
    }
}
