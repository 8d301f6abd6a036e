package io.redsync.benchmarks;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.redsync.Lease;
import io.redsync.Redsync;
import io.redsync.RedsyncException;
import org.HdrHistogram.Histogram;
import org.redisson.RedissonRedLock;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;

import java.lang.reflect.Method;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The contenders: what one lock+unlock is for each library, and how many callers drive it at once. */
final class Contenders {
    /** The same TTL everywhere: redsync's default expiry; Redisson gets it as its lease time (no watchdog). */
    static final long LEASE_MILLIS = 8000;
    static final String COMPARE_AND_DELETE =
            "if redis.call('get',KEYS[1]) == ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";
    private static final SetArgs SET_NX_PX = SetArgs.Builder.nx().px(LEASE_MILLIS);
    /** One shared generator, as redsync's default value generator has, so the floor pays the same. */
    private static final SecureRandom RANDOM = new SecureRandom();

    private Contenders() {
    }

    enum Kind { FLOOR, OURS, REDISSON }

    /** One uncontended lock+unlock of {@code name}; false when it did not succeed as an uncontended lock must. */
    interface LockCycle {
        boolean cycle(String name) throws Exception;
    }

    // ---------------------------------------------------------------- the floor

    /**
     * The floor: the least Redis work a Redlock needs. SET NX PX on every node in parallel, await all, then
     * compare-and-delete by EVALSHA on every node in parallel, await all (with one node: sequential).
     */
    record Floor(List<RedisAsyncCommands<String, String>> nodes, String sha) implements LockCycle {
        @Override
        public boolean cycle(String name) throws Exception {
            String value = newValue();
            String[] keys = {name};
            int n = nodes.size();
            RedisFuture<?>[] replies = new RedisFuture<?>[n];
            for (int i = 0; i < n; i++) {
                replies[i] = nodes.get(i).set(name, value, SET_NX_PX);
            }
            boolean ok = true;
            for (RedisFuture<?> reply : replies) {
                ok &= "OK".equals(reply.get());
            }
            for (int i = 0; i < n; i++) {
                replies[i] = nodes.get(i).evalsha(sha, ScriptOutputType.INTEGER, keys, value);
            }
            for (RedisFuture<?> reply : replies) {
                ok &= Long.valueOf(1).equals(reply.get());
            }
            return ok;
        }

        /** The same commands, never blocking: completes with whether both steps succeeded everywhere. */
        CompletableFuture<Boolean> cycleAsync(String name) {
            String value = newValue();
            String[] keys = {name};
            int n = nodes.size();
            @SuppressWarnings("unchecked")
            CompletableFuture<String>[] sets = new CompletableFuture[n];
            for (int i = 0; i < n; i++) {
                sets[i] = nodes.get(i).set(name, value, SET_NX_PX).toCompletableFuture();
            }
            return CompletableFuture.allOf(sets).thenCompose(v -> {
                boolean ok = true;
                for (CompletableFuture<String> s : sets) {
                    ok &= "OK".equals(s.join());
                }
                boolean setOk = ok;
                @SuppressWarnings("unchecked")
                CompletableFuture<Long>[] dels = new CompletableFuture[n];
                for (int i = 0; i < n; i++) {
                    dels[i] = nodes.get(i).<Long>evalsha(sha, ScriptOutputType.INTEGER, keys, value).toCompletableFuture();
                }
                return CompletableFuture.allOf(dels).thenApply(w -> {
                    boolean all = setOk;
                    for (CompletableFuture<Long> d : dels) {
                        all &= Long.valueOf(1).equals(d.join());
                    }
                    return all;
                });
            });
        }

        private static String newValue() {
            byte[] bytes = new byte[16];
            RANDOM.nextBytes(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        }
    }

    // ---------------------------------------------------------------- redsync

    static LockCycle oursBlocking(Redsync redsync) {
        return name -> {
            try {
                Lease lease = redsync.mutex(name).lock();
                lease.release();
                return true;
            } catch (RedsyncException e) {
                return false;
            }
        };
    }

    static LockCycle oursAsyncAwaited(Redsync redsync) {
        return name -> {
            try {
                Lease lease = redsync.mutex(name).lockAsync().get();
                lease.releaseAsync().get();
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RedsyncException) {
                    return false;
                }
                throw e;
            }
        };
    }

    /** redsync's async API without a thread per caller: lockAsync, then releaseAsync, chained. */
    static CompletableFuture<Boolean> oursAsyncCycle(Redsync redsync, String name) {
        return redsync.mutex(name).lockAsync().thenCompose(Lease::releaseAsync).handle((v, e) -> {
            if (e == null) {
                return true;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedsyncException) {
                return false;
            }
            throw e instanceof CompletionException c ? c : new CompletionException(e);
        });
    }

    // ---------------------------------------------------------------- Redisson

    /** Redisson's RLock on one node, with the same fixed lease as ours (so no watchdog renewals). */
    static LockCycle redissonLock(RedissonClient client) {
        return name -> {
            RLock lock = client.getLock(name);
            lock.lock(LEASE_MILLIS, TimeUnit.MILLISECONDS);
            try {
                lock.unlock();
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        };
    }

    /** Redisson's RedissonRedLock over one RedissonClient per node. */
    static LockCycle redissonRedLock(List<RedissonClient> clients) {
        return name -> {
            RLock lock = redLock(clients, name);
            lock.lock(LEASE_MILLIS, TimeUnit.MILLISECONDS);
            try {
                lock.unlock();
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        };
    }

    @SuppressWarnings("deprecation")
    static RLock redLock(List<RedissonClient> clients, String name) {
        RLock[] locks = new RLock[clients.size()];
        for (int i = 0; i < locks.length; i++) {
            locks[i] = clients.get(i).getLock(name);
        }
        return new RedissonRedLock(locks);
    }

    // ---------------------------------------------------------------- latency (one caller)

    /** A contender of the latency workload: runs a block of sequential cycles on the calling thread. */
    abstract static class Sequential {
        final String name;
        final Kind kind;

        Sequential(String name, Kind kind) {
            this.name = name;
            this.kind = kind;
        }

        /** Runs {@code cycles} lock+unlock cycles of {@code lockName}, recording each; returns the failures. */
        abstract long block(String lockName, int cycles, Histogram latency) throws Exception;
    }

    static Sequential sequential(String name, Kind kind, LockCycle cycle) {
        return new Sequential(name, kind) {
            @Override
            long block(String lockName, int cycles, Histogram latency) throws Exception {
                long failures = 0;
                for (int i = 0; i < cycles; i++) {
                    long t0 = System.nanoTime();
                    boolean ok;
                    try {
                        ok = cycle.cycle(lockName);
                    } catch (RuntimeException e) {
                        ok = false;
                    }
                    latency.recordValue(System.nanoTime() - t0);
                    if (!ok) {
                        failures++;
                    }
                }
                return failures;
            }
        };
    }

    static Sequential coroutinesSequential(Redsync redsync) {
        return new Sequential("redsync coroutines", Kind.OURS) {
            @Override
            long block(String lockName, int cycles, Histogram latency) {
                return CoroutineDrivers.latencyBlock(redsync, lockName, cycles, latency);
            }
        };
    }

    // ---------------------------------------------------------------- throughput (many callers)

    /** What one throughput run counted. */
    record Tput(long ops, long failures, long elapsedNanos, Histogram latency) {
        double opsPerSecond() {
            return ops * 1e9 / elapsedNanos;
        }
    }

    /** A contender of the throughput workload: {@code names.size()} callers, one name each. */
    abstract static class Concurrent {
        final String name;
        final Kind kind;
        /** "64 threads", "64 async chains", ...: what the ratio is taken against. */
        final String model;

        Concurrent(String name, Kind kind, String model) {
            this.name = name;
            this.kind = kind;
            this.model = model;
        }

        abstract Tput run(List<String> names, long durationNanos) throws Exception;
    }

    /** One thread per name, each looping {@code cycle} until the deadline. */
    static Concurrent threads(String name, Kind kind, String model, LockCycle cycle, ThreadFactory factory) {
        return new Concurrent(name, kind, model) {
            @Override
            Tput run(List<String> names, long durationNanos) throws Exception {
                int n = names.size();
                long[] ops = new long[n];
                long[] failures = new long[n];
                Histogram[] latencies = new Histogram[n];
                List<Thread> threads = new ArrayList<>(n);
                long start = System.nanoTime();
                long deadline = start + durationNanos;
                for (int i = 0; i < n; i++) {
                    int me = i;
                    latencies[me] = BenchSupport.histogram();
                    threads.add(factory.newThread(() -> {
                        String lockName = names.get(me);
                        while (System.nanoTime() - deadline < 0) {
                            long t0 = System.nanoTime();
                            boolean ok;
                            try {
                                ok = cycle.cycle(lockName);
                            } catch (Exception e) {
                                ok = false;
                            }
                            latencies[me].recordValue(System.nanoTime() - t0);
                            if (ok) {
                                ops[me]++;
                            } else {
                                failures[me]++;
                            }
                        }
                    }));
                }
                threads.forEach(Thread::start);
                for (Thread t : threads) {
                    t.join();
                }
                long elapsed = System.nanoTime() - start;
                Histogram all = BenchSupport.histogram();
                long o = 0;
                long f = 0;
                for (int i = 0; i < n; i++) {
                    all.add(latencies[i]);
                    o += ops[i];
                    f += failures[i];
                }
                return new Tput(o, f, elapsed, all);
            }
        };
    }

    /** A cycle that completes a future instead of blocking. */
    interface AsyncCycle {
        CompletableFuture<Boolean> cycle(String name);
    }

    /** One chain per name: the next cycle starts when the previous completed; no thread waits. */
    static Concurrent chains(String name, Kind kind, AsyncCycle cycle) {
        return new Concurrent(name, kind, "async chains") {
            @Override
            Tput run(List<String> names, long durationNanos) throws Exception {
                int n = names.size();
                AtomicLong ops = new AtomicLong();
                AtomicLong failures = new AtomicLong();
                Histogram[] latencies = new Histogram[n];
                CompletableFuture<?>[] done = new CompletableFuture<?>[n];
                long start = System.nanoTime();
                long deadline = start + durationNanos;
                for (int i = 0; i < n; i++) {
                    latencies[i] = BenchSupport.histogram();
                    done[i] = new CompletableFuture<Void>();
                    next(cycle, names.get(i), deadline, latencies[i], ops, failures, done[i]);
                }
                CompletableFuture.allOf(done).get(durationNanos / 1_000_000 + 60_000, TimeUnit.MILLISECONDS);
                long elapsed = System.nanoTime() - start;
                Histogram all = BenchSupport.histogram();
                for (Histogram h : latencies) {
                    all.add(h);
                }
                return new Tput(ops.get(), failures.get(), elapsed, all);
            }
        };
    }

    private static void next(AsyncCycle cycle, String name, long deadline, Histogram latency, AtomicLong ops,
                             AtomicLong failures, CompletableFuture<?> done) {
        if (System.nanoTime() - deadline >= 0) {
            done.complete(null);
            return;
        }
        long t0 = System.nanoTime();
        CompletableFuture<Boolean> f;
        try {
            f = cycle.cycle(name);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((ok, e) -> {
            latency.recordValue(System.nanoTime() - t0);
            if (e == null && ok) {
                ops.incrementAndGet();
            } else {
                failures.incrementAndGet();
            }
            next(cycle, name, deadline, latency, ops, failures, done);
        });
    }

    static Concurrent coroutinesConcurrent(Redsync redsync) {
        return new Concurrent("redsync coroutines", Kind.OURS, "coroutines") {
            @Override
            Tput run(List<String> names, long durationNanos) {
                Histogram all = BenchSupport.histogram();
                long[] r = CoroutineDrivers.throughput(redsync, names, durationNanos, all);
                return new Tput(r[0], r[1], r[2], all);
            }
        };
    }

    static Concurrent floorCoroutines(Floor floor) {
        return new Concurrent(Suite.FLOOR_COROUTINES, Kind.FLOOR, "coroutines") {
            @Override
            Tput run(List<String> names, long durationNanos) {
                Histogram all = BenchSupport.histogram();
                long[] r = CoroutineDrivers.floorThroughput(floor::cycleAsync, names, durationNanos, all);
                return new Tput(r[0], r[1], r[2], all);
            }
        };
    }

    static ThreadFactory platformThreads(String prefix) {
        AtomicLong count = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Virtual threads where the JDK has them (21+), looked up reflectively: this module compiles for 17. */
    static ThreadFactory virtualThreadsOrNull() {
        try {
            Method ofVirtual = Thread.class.getMethod("ofVirtual");
            Object builder = ofVirtual.invoke(null);
            Method factory = Class.forName("java.lang.Thread$Builder").getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
