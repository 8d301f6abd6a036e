package io.redsync.internal;

/**
 * What every mutex of one instance shares: the quorum engine, the local waiters for release announcements, and
 * the registry of lock calls in flight.
 */
record Context(Engine engine, Waiters waiters, Calls calls) {
    static Context of(Engine engine) {
        return new Context(engine, new Waiters(engine.nodes, engine.quorum, Scheduler.WORKERS), new Calls());
    }
}
