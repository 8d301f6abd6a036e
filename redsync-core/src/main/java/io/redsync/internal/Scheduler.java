package io.redsync.internal;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.redsync.Redsync;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger LOG = LoggerFactory.getLogger(Redsync.class);

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
     *
     * <p>Replaced by a new one if its thread ever dies (see {@link #timer()}).
     */
    private static volatile HashedWheelTimer timer = newTimer();
    /** The current timer's thread, once it started; null before. */
    private static volatile Thread timerThread;

    private static HashedWheelTimer newTimer() {
        // The thread is made when the wheel is, and started by its first timeout: it is recorded once it runs.
        return new HashedWheelTimer(r -> new TimerThread(() -> {
            timerThread = Thread.currentThread();
            r.run();
        }, "redsync-timer"), TICK_NANOS, TimeUnit.NANOSECONDS, 512);
    }

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

    /**
     * Runs {@code task} on the timer thread after {@code delayNanos}; the returned handle cancels it. Whatever the
     * task throws (an Error included) is logged and dropped, never left to the wheel: Netty's wheel catches it too,
     * but its own logging allocates, and under memory pressure the second OutOfMemoryError thrown there ended the
     * timer's thread. Every node timeout, retry and keep-alive of every instance then never fired, and close()
     * waited for ballots nothing would decide (issue 18).
     */
    static Timeout schedule(Runnable task, long delayNanos) {
        return timer().newTimeout(t -> runSafely(task, "the redsync timer"), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code task}, logging and dropping anything it throws; the logging cannot throw either. */
    static void runSafely(Runnable task, String where) {
        try {
            task.run();
        } catch (Throwable e) {
            try {
                LOG.warn("a task failed on {}", where, e);
            } catch (Throwable ignored) {
                // Out of memory while logging: the thread is worth more than the log line.
            }
        }
    }

    /**
     * The wheel, replaced when its thread has died all the same (an Error thrown by the wheel's own code between
     * tasks): later schedules then still run. What the dead wheel held is lost, so a call waiting on one of its
     * timeouts stays bounded by what bounds it from outside (close(), an acquire timeout, a caller's own wait).
     */
    private static HashedWheelTimer timer() {
        Thread thread = timerThread;
        if (thread == null || thread.isAlive()) {
            return timer;
        }
        synchronized (Scheduler.class) {
            if (timerThread == thread) {
                timerThread = null;
                HashedWheelTimer dead = timer;
                timer = newTimer();
                try {
                    dead.stop();
                } catch (RuntimeException ignored) {
                    // Stopping a wheel whose thread is gone has nothing left to do.
                }
            }
            return timer;
        }
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
