package io.redsync.samples;

import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.Redsync;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plain blocking code on virtual threads (JDK 21+): 500 guests, one virtual thread each, race for 50
 * seats; each guest blocks in {@code lock("seat:n")}, which parks only its virtual thread. Every seat is
 * booked exactly once. This project is built for Java 17, so virtual threads are reached by reflection;
 * on a JDK without them the sample says so and does nothing. (Your Java 21+ code just calls
 * {@code Executors.newVirtualThreadPerTaskExecutor()}.)
 *
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.VirtualThreads}</pre>
 */
public final class VirtualThreads {
    static final int GUESTS = 500;
    static final int SEATS = 50;

    private VirtualThreads() {
    }

    public static void main(String[] args) throws Exception {
        if (virtualThreadPerTaskExecutor().isEmpty()) {
            System.out.println(skipped());
            return;
        }
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            run(nodes.uris());
        }
    }

    /** What the sample prints on a JDK without virtual threads. */
    static String skipped() {
        return "virtual threads need JDK 21 or newer; this is JDK " + Runtime.version().feature() + ": skipped";
    }

    /**
     * Runs the booking.
     *
     * @return seat → guest, or empty when this JDK has no virtual threads
     */
    @SuppressWarnings("try") // a lease is held by its try block, not necessarily used in it
    static Optional<Map<Integer, Integer>> run(List<String> uris) throws Exception {
        Optional<ExecutorService> virtual = virtualThreadPerTaskExecutor();
        if (virtual.isEmpty()) {
            System.out.println(skipped());
            return Optional.empty();
        }
        Map<Integer, Integer> bookings = new ConcurrentHashMap<>();
        AtomicInteger doubleBooked = new AtomicInteger();
        AtomicInteger turnedAway = new AtomicInteger();
        AtomicInteger onVirtualThreads = new AtomicInteger();
        // Ten guests line up per seat: wait by time, however many attempts that takes.
        LockOptions patient = LockOptions.builder().tries(Integer.MAX_VALUE).acquireTimeout(Duration.ofSeconds(30)).build();
        long started = System.nanoTime();
        try (Redsync redsync = Redsync.builder().uris(uris).defaults(patient).build()) {
            ExecutorService executor = virtual.get();
            try {
                List<Future<?>> guests = new ArrayList<>();
                for (int guest = 0; guest < GUESTS; guest++) {
                    int seat = guest % SEATS;
                    int who = guest;
                    guests.add(executor.submit(() -> {
                        if (isVirtual(Thread.currentThread())) {
                            onVirtualThreads.incrementAndGet();
                        }
                        try (Lease lease = redsync.lock("seat:" + seat)) { // parks this virtual thread only
                            // Check-then-book: the lock, not the map, makes the pair atomic.
                            if (bookings.containsKey(seat)) {
                                turnedAway.incrementAndGet();
                            } else if (bookings.put(seat, who) != null) {
                                doubleBooked.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> guest : guests) {
                    guest.get();
                }
            } finally {
                executor.shutdown();
                executor.awaitTermination(1, TimeUnit.MINUTES);
            }
        }
        System.out.printf("%d guests on %d virtual threads booked %d of %d seats in %d ms: %d double bookings, %d turned away%n",
                GUESTS, onVirtualThreads.get(), bookings.size(), SEATS, (System.nanoTime() - started) / 1_000_000,
                doubleBooked.get(), turnedAway.get());
        return Optional.of(Map.copyOf(bookings));
    }

    /** {@code Executors.newVirtualThreadPerTaskExecutor()} where the JDK has it (21+), else empty. */
    static Optional<ExecutorService> virtualThreadPerTaskExecutor() {
        try {
            return Optional.of((ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null));
        } catch (NoSuchMethodException e) {
            return Optional.empty();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create a virtual-thread executor", e);
        }
    }

    private static boolean isVirtual(Thread thread) {
        try {
            return (Boolean) Thread.class.getMethod("isVirtual").invoke(thread);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
