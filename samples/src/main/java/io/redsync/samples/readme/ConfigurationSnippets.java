package io.redsync.samples.readme;

// region README tls
import io.lettuce.core.SslOptions;
import io.redsync.Redsync;

import java.io.File;
import java.util.List;
// endregion
// region README keep-alive-java
import io.redsync.KeepAlive;
import io.redsync.LockOptions;

import java.time.Duration;
// endregion

/** The README's configuration examples, compiled; {@code ConfigurationSnippetsSpec} builds the options. */
public final class ConfigurationSnippets {
    private ConfigurationSnippets() {
    }

    /** A lock option set with a custom keep-alive. */
    public static LockOptions keepAlive() {
        return
        // region README keep-alive-java
        LockOptions.builder().expiry(Duration.ofSeconds(5))
                .keepAlive(KeepAlive.builder().interval(Duration.ofSeconds(1)).maxDuration(Duration.ofMinutes(10)).build())
                .build();
        // endregion
    }

    /** An instance over TLS nodes whose certificates a private CA signed (builds; connects on first use). */
    public static Redsync tls() {
        // region README tls
        Redsync redsync = Redsync.builder()
                .uris(List.of("rediss://10.0.0.1:6380", "rediss://10.0.0.2:6380", "rediss://10.0.0.3:6380"))
                .sslOptions(SslOptions.builder().trustManager(new File("/etc/redis/ca.crt")).build())
                .build();
        // endregion
        return redsync;
    }
}
