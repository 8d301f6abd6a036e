package io.redsync.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs what the timer thread hands over (decisions reached by a timeout, lease-lost listeners) on as few
 * threads as keep it moving: one drains the queue, and another is added only when the queue has not
 * moved for a check interval while work waits, up to {@code max} (a caller blocking in a continuation
 * holds its thread; the others carry on). Threads idle for 30 s end.
 *
 * <p>A plain pool with one thread per core task would start all of its threads at the first burst: a
 * partition failing ten thousand waiting calls at one timer tick made sixteen threads for work one thread
 * does in milliseconds.
 */
final class Workers implements Executor {
    /**
     * How long the queue may stand still, with work waiting, before another thread is added. Long enough that
     * a drainer descheduled on a busy machine is not taken for a blocked one (20 ms was not, on two cores
     * shared with builds); short enough that a continuation blocking its thread stalls the rest only briefly.
     */
    private static final long CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final int max;
    private final long checkNanos;
    private final ThreadPoolExecutor threads;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Threads draining the queue now. */
    private final AtomicInteger drainers = new AtomicInteger();
    /** Tasks finished so far: the check sees whether the queue moved. */
    private final AtomicLong finished = new AtomicLong();
    private final AtomicBoolean checking = new AtomicBoolean();
    private long finishedAtLastCheck = -1;

    Workers(String name, int max) {
        this(name, max, CHECK_NANOS);
    }

    /** With another check interval (for tests: a long one turns the stall check off). */
    Workers(String name, int max, long checkNanos) {
        this.max = max;
        this.checkNanos = checkNanos;
        AtomicInteger count = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(0, max, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (drainers.get() == 0 && drainers.compareAndSet(0, 1)) {
            start();
        }
    }

    /** Number of threads alive, idle ones included (for tests). */
    int threadCount() {
        return threads.getPoolSize();
    }

    /** Starts one more drainer, already counted in {@link #drainers}. */
    private void start() {
        try {
            threads.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // Every thread is still busy finishing a drain that has ended: the drainers running carry on.
            drainers.decrementAndGet();
        }
        if (checking.compareAndSet(false, true)) {
            Scheduler.schedule(this::check, checkNanos);
        }
    }

    private void drain() {
        do {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                // Logged and dropped, also an Error, and never thrown by the logging: a drainer ending here
                // would stay counted in drainers, and no task would run again.
                Scheduler.runSafely(task, "a redsync worker thread");
                finished.incrementAndGet();
            }
            drainers.decrementAndGet();
            // A task added after the last poll but before the decrement saw a drainer and started none.
        } while (!tasks.isEmpty() && drainers.compareAndSet(0, 1));
    }

    /** On the timer thread, while anything drains: adds a drainer when work waits and none moved. */
    private void check() {
        long done = finished.get();
        int running = drainers.get();
        if (!tasks.isEmpty() && done == finishedAtLastCheck && running < max && drainers.compareAndSet(running, running + 1)) {
            start();
        }
        finishedAtLastCheck = done;
        checking.set(false);
        if ((drainers.get() > 0 || !tasks.isEmpty()) && checking.compareAndSet(false, true)) {
            Scheduler.schedule(this::check, checkNanos);
        }
    }
}
