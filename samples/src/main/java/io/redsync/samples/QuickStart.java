package io.redsync.samples;

// region README java-quick-start
import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.Redsync;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
// endregion
import io.redsync.LockAcquisitionException;
import io.redsync.LockTakenException;
import io.redsync.Mutex;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The README's Java quick start ({@link #quickStart}, shown there verbatim), then blocking try-with-resources,
 * one attempt with {@code tryLock}, and telling "busy" from "broken".
 *
 * <pre>{@code mvn -q -pl samples -am test-compile exec:java -Dexec.mainClass=io.redsync.samples.QuickStart}</pre>
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) throws Exception {
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            run(nodes.uris());
        }
    }

    // region README java-quick-start
    // uris: one per independent Redis master, e.g. "redis://10.0.0.1:6379", "redis://10.0.0.2:6379", "redis://10.0.0.3:6379".
    // lock() and executeLocked() throw InterruptedException when the waiting thread is interrupted (nothing is
    // held then); every other failure is an unchecked RedsyncException (see the error reference).
    static void quickStart(List<String> uris, Connection db) throws InterruptedException, SQLException {
        try (Redsync redsync = Redsync.create(uris)) {

            // Blocking: waits (32 tries by default, woken early when the holder releases); released when the
            // block ends, also on exceptions.
            try (Lease lease = redsync.lock("invoice:42")) {
                lease.checkValid();               // throws if the work outran the lease
                // ... work that must not run twice at once ...
            }

            // Kept alive while the work runs; if the lease is lost anyway, the thread is interrupted and
            // LeaseLostException is thrown (the same on virtual threads).
            String receipt = redsync.executeLocked("invoice:42", lease -> "charged under " + lease.name());

            // One attempt, no waiting: empty when another owner holds the lock.
            Optional<Lease> maybe = redsync.mutex("report:daily").tryLock();
            if (maybe.isPresent()) {
                try (Lease lease = maybe.get()) {
                    // ... the daily report ...
                }
            }

            // Asynchronous: no thread waits; cancelling `locking` stops retrying and releases partial holds.
            // The lease is released after the asynchronous work, whatever its outcome.
            CompletableFuture<Lease> locking = redsync.lockAsync("cache:refresh");
            CompletableFuture<String> refreshed = locking.thenCompose(lease ->
                    CompletableFuture.supplyAsync(() -> "cache refreshed")        // your asynchronous work
                            .thenCompose(result -> lease.releaseAsync().thenApply(released -> result))
                            .exceptionallyCompose(failure -> lease.releaseAsync()
                                    .thenCompose(released -> CompletableFuture.<String>failedFuture(failure))));
            refreshed.join();                     // the example waits here; a service would return the future

            // Fencing tokens: strictly increasing from holder to holder. The database refuses a write with a
            // lower token than the row's (the table is below), so a holder that paused past its lease cannot
            // overwrite a newer holder's write; an equal token is this lease writing again. redsync.options()
            // starts from the instance's defaults (LockOptions.builder() from the library's).
            try (Lease lease = redsync.lock("account:9", redsync.options().fencing(true).build());
                 PreparedStatement update = db.prepareStatement(
                         "UPDATE account SET balance = ?, fence = ? WHERE id = ? AND fence <= ?")) {
                long token = lease.fencingToken().getAsLong();
                update.setLong(1, 100);
                update.setLong(2, token);
                update.setLong(3, 9);
                update.setLong(4, token);
                if (update.executeUpdate() != 1) {  // 0 rows: a newer holder wrote the row; this work must not count
                    throw new IllegalStateException("account 9 not written: fencing token " + token + " is stale");
                }
            }
        }
    }
    // endregion

    @SuppressWarnings("try") // a lease is held by its try block, not necessarily used in it
    static void run(List<String> uris) throws Exception {
        // The README's quick start, with its table in an in-memory H2 database.
        try (Connection db = DriverManager.getConnection("jdbc:h2:mem:quickstart-" + System.nanoTime())) {
            createTables(db);
            quickStart(uris, db);
            System.out.println("account 9 after the quick start: " + account(db, 9));
        }

        // One instance per application: thread-safe, connects lazily, closes what it created.
        try (Redsync redsync = Redsync.create(uris)) {

            // 1. Blocking: waits (up to 32 tries by default, woken early when the holder releases) and
            //    releases when the block ends, also on exceptions.
            try (Lease lease = redsync.lock("invoice:42")) {
                System.out.println("holding " + lease.name() + " for another " + lease.remaining().toMillis() + " ms");
                lease.checkValid(); // throws LeaseExpiredException if the work outran the lease
            }

            // 2. One attempt, no waiting: empty when someone else holds the lock.
            Mutex daily = redsync.mutex("report:daily");
            Optional<Lease> maybe = daily.tryLock();
            try (Lease lease = maybe.orElseThrow()) {
                System.out.println("a second tryLock while " + lease.name() + " is held: "
                        + redsync.mutex("report:daily").tryLock().isPresent());
            }

            // 3. Telling "busy" (LockTakenException) from "broken" (its parent, LockAcquisitionException).
            LockOptions once = LockOptions.builder().tries(1).build();
            try (Lease held = redsync.lock("busy")) {
                redsync.lock("busy", once).close();
            } catch (LockTakenException e) {
                System.out.println("busy, held on nodes " + e.nodes());
            } catch (LockAcquisitionException e) {
                System.out.println("nodes failing: " + e.votes());
            }
        }
    }

    /** Runs the README's table definition (samples/src/main/resources/fencing.sql) and its one row. */
    static void createTables(Connection db) throws SQLException, IOException {
        String script;
        try (InputStream in = QuickStart.class.getResourceAsStream("/fencing.sql")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Statement statement = db.createStatement()) {
            for (String sql : script.replaceAll("(?m)--.*$", "").split(";")) {
                if (!sql.isBlank()) {
                    statement.execute(sql);
                }
            }
        }
    }

    /** "balance=..., fence=..." of one account row. */
    static String account(Connection db, long id) throws SQLException {
        try (PreparedStatement select = db.prepareStatement("SELECT balance, fence FROM account WHERE id = ?")) {
            select.setLong(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? "balance=" + row.getLong(1) + ", fence=" + row.getLong(2) : "absent";
            }
        }
    }
}
