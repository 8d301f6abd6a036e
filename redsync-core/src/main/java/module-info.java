/**
 * redsync: Redlock over N independent Redis masters. The API ({@code io.redsync}), the node SPI
 * ({@code io.redsync.spi}) and the Lettuce node ({@code io.redsync.lettuce}) are exported; the engine
 * ({@code io.redsync.internal}) is not.
 *
 * @since 0.1.0
 */
module io.redsync {
    // Lettuce types are part of the API (Redsync.Builder takes clients, URIs, connections, TLS options).
    requires transitive lettuce.core;
    // The engine's timer (HashedWheelTimer), from the Netty that Lettuce brings.
    requires io.netty.common;
    // Lettuce's credentials provider answers with a Mono (RedsyncImpl resolves a URI's password once).
    requires reactor.core;
    requires org.slf4j;

    exports io.redsync;
    exports io.redsync.spi;
    exports io.redsync.lettuce;
}
