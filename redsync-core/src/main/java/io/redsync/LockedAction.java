package io.redsync;

/**
 * Work done while holding a lock, for {@link Redsync#executeLocked}. May throw a checked exception of its
 * own type, which {@code executeLocked} rethrows unchanged.
 *
 * @param <T> the result type
 * @param <E> the checked exception the work may throw ({@link RuntimeException} when none)
 * @since 0.1.0
 */
@FunctionalInterface
public interface LockedAction<T, E extends Exception> {

    /**
     * Does the work.
     *
     * @param lease the held, kept-alive lease: check {@link Lease#checkValid()} before steps that must not
     *              run unprotected, and stop when interrupted
     * @return the result
     * @throws E the work's own failure
     * @since 0.1.0
     */
    T run(Lease lease) throws E;
}
