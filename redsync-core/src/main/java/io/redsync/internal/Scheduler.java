package io.redsync.internal;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;

import java.util.concurrent.TimeUnit;

/**
 * Where the engine's deferred work runs, apart from what it does: one timer for node timeouts, retry delays and
 * keep-alive, and the workers that complete what the timer decided. Shared by every instance; nothing here knows
 * Redlock.
 *
 * <p>No caller code ever runs on the timer thread: a ballot decided there (by a timeout, or by a node failing
 * synchronously during a retry) completes on {@link #WORKERS} instead. Otherwise a caller blocking in a
 * continuation (say {@code lease.release()} in {@code thenAccept}) would wait for a timeout that only that
 * blocked thread can fire.
 */
final class Scheduler {
    /**
     * Completes what the timer thread decided, and runs lease-lost listeners. One daemon thread while there is
     * work, more (at most 16) only while the ones there are blocked, for a caller blocking in a continuation holds
     * its thread (the Javadoc of the async methods says not to; use the *Async variants or thenApplyAsync).
     * Normal decisions (replies) complete on the I/O thread that received the last reply and never come here.
     */
    static final Workers WORKERS = new Workers("redsync-worker", 16);

    /** The wheel's tick: {@link #schedule} runs a task up to this much after its delay, never before. */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * A hashed wheel: adding and cancelling a timeout is a lock-free queue operation that wakes no thread, where a
     * ScheduledThreadPoolExecutor signals its thread whenever a new earliest task arrives, several times per
     * lock+unlock. The 10 ms tick is ample precision for what it times (timeouts are upper bounds; validity is
     * measured, not assumed).
     */
    private static final HashedWheelTimer TIMER = new HashedWheelTimer(
            r -> new TimerThread(r, "redsync-timer"), TICK_NANOS, TimeUnit.NANOSECONDS, 512);

    private Scheduler() {
    }

    /** The timer's thread is of this type, so a decision can tell where it runs. */
    private static final class TimerThread extends Thread {
        TimerThread(Runnable task, String name) {
            super(task, name);
            setDaemon(true);
        }
    }

    static boolean onTimerThread() {
        return Thread.currentThread() instanceof TimerThread;
    }

    /** Runs {@code task} on the timer thread after {@code delayNanos}; the returned handle cancels it. */
    static Timeout schedule(Runnable task, long delayNanos) {
        return TIMER.newTimeout(t -> task.run(), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** As {@link #schedule(Runnable, long)}, for a task that is its own timer task (one object less per call). */
    static Timeout schedule(TimerTask task, long delayNanos) {
        return TIMER.newTimeout(task, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task} now unless on the timer thread, where it goes to a worker. */
    static void offTimer(Runnable task) {
        if (onTimerThread()) {
            WORKERS.execute(task);
        } else {
            task.run();
        }
    }
}
