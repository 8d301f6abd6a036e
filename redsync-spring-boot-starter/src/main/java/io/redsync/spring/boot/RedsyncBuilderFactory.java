package io.redsync.spring.boot;

import io.lettuce.core.SslOptions;
import io.redsync.KeepAlive;
import io.redsync.LockOptions;
import io.redsync.Redsync;
import io.redsync.RetryDelay;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns the {@code redsync.*} properties into a {@link Redsync.Builder}; each value is applied on its own, so a
 * value the library rejects fails the start with its property's name, the value and the library's reason.
 */
final class RedsyncBuilderFactory {
    private RedsyncBuilderFactory() {
    }

    static Redsync.Builder builder(RedsyncProperties properties, SslBundles sslBundles) {
        List<String> nodes = properties.getNodes();
        if (nodes == null || nodes.isEmpty()) {
            throw new InvalidConfigurationPropertyValueException("redsync.nodes", nodes,
                    "list one URI per independent Redis master (3 or 5 for Redlock), e.g. "
                            + "redsync.nodes=redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379; or define your own Redsync bean");
        }
        Redsync.Builder builder = Redsync.builder();
        for (int i = 0; i < nodes.size(); i++) {
            String uri = nodes.get(i);
            apply("redsync.nodes[" + i + "]", uri, v -> {
                if (v == null || v.isBlank()) {
                    throw new IllegalArgumentException("a node URI must not be blank");
                }
                io.lettuce.core.RedisURI.create(v);
                builder.uri(v);
            });
        }
        apply("redsync.key-prefix", properties.getKeyPrefix(), builder::keyPrefix);
        apply("redsync.connect-timeout", properties.getConnectTimeout(), builder::connectTimeout);
        builder.defaults(lockOptions(properties));
        String bundle = properties.getSsl().getBundle();
        if (bundle != null) {
            apply("redsync.ssl.bundle", bundle, name -> builder.sslOptions(sslOptions(sslBundles, name)));
        }
        return builder;
    }

    static LockOptions lockOptions(RedsyncProperties properties) {
        RedsyncProperties.Lock lock = properties.getLock();
        RedsyncProperties.KeepAlive keep = properties.getKeepAlive();
        Map<String, Object> given = new LinkedHashMap<>();
        LockOptions.Builder b = LockOptions.builder();
        apply(given, "redsync.lock.expiry", lock.getExpiry(), b::expiry);
        apply(given, "redsync.lock.tries", lock.getTries(), b::tries);
        if (lock.getRetryDelayMin() != null || lock.getRetryDelayMax() != null) {
            Duration min = lock.getRetryDelayMin() != null ? lock.getRetryDelayMin() : Duration.ofMillis(50);
            Duration max = lock.getRetryDelayMax() != null ? lock.getRetryDelayMax() : Duration.ofMillis(250);
            apply(given, "redsync.lock.retry-delay-min", min, v -> b.retryDelay(RetryDelay.uniform(v, max)));
        }
        apply(given, "redsync.lock.drift-factor", lock.getDriftFactor(), b::driftFactor);
        apply(given, "redsync.lock.timeout-factor", lock.getTimeoutFactor(), b::timeoutFactor);
        apply(given, "redsync.lock.node-timeout", lock.getNodeTimeout(), b::nodeTimeout);
        apply(given, "redsync.lock.acquire-timeout", lock.getAcquireTimeout(), b::acquireTimeout);
        apply(given, "redsync.lock.fail-fast", lock.getFailFast(), b::failFast);
        apply(given, "redsync.lock.shuffle-pools", lock.getShufflePools(), b::shufflePools);
        apply(given, "redsync.lock.release-notifications", lock.getReleaseNotifications(), b::releaseNotifications);
        apply(given, "redsync.lock.fencing", lock.getFencing(), b::fencing);

        KeepAlive.Builder k = KeepAlive.builder();
        apply(given, "redsync.keep-alive.enabled", keep.getEnabled(), k::enabled);
        apply(given, "redsync.keep-alive.interval", keep.getInterval(), k::interval);
        apply(given, "redsync.keep-alive.lost-margin", keep.getLostMargin(), k::lostMargin);
        apply(given, "redsync.keep-alive.max-duration", keep.getMaxDuration(), k::maxDuration);
        apply(given, "redsync.keep-alive.max-extensions", keep.getMaxExtensions(), k::maxExtensions);
        b.keepAlive(k.build());
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // The library checks its fields at build(); its message starts with the field's name ("driftFactor must
            // be in (0, 1), was 1.5", "keepAlive interval must be < expiry ..."): name that property.
            String property = propertyOf(e.getMessage());
            throw new InvalidConfigurationPropertyValueException(property, given.get(property), e.getMessage());
        }
    }

    /** {@code "driftFactor must ..."} → {@code redsync.lock.drift-factor}; {@code "keepAlive interval ..."} → {@code redsync.keep-alive.interval}. */
    static String propertyOf(String message) {
        String[] words = (message == null ? "" : message).split(" ", 3);
        boolean keepAlive = words.length > 1 && words[0].equals("keepAlive");
        String field = keepAlive ? words[1] : words[0];
        String kebab = field.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
        return field.matches("[a-zA-Z]+") ? (keepAlive ? "redsync.keep-alive." : "redsync.lock.") + kebab : "redsync.lock";
    }

    private static SslOptions sslOptions(SslBundles bundles, String name) {
        if (bundles == null) {
            throw new IllegalArgumentException("no SSL bundles are configured (spring.ssl.bundle.*)");
        }
        SslBundle bundle;
        try {
            bundle = bundles.getBundle(name);
        } catch (NoSuchSslBundleException e) {
            throw new IllegalArgumentException(e.getMessage() + "; define it under spring.ssl.bundle.pem." + name
                    + " or spring.ssl.bundle.jks." + name, e);
        }
        SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider()
                .keyManager(bundle.getManagers().getKeyManagerFactory())
                .trustManager(bundle.getManagers().getTrustManagerFactory());
        if (bundle.getOptions().getCiphers() != null) {
            ssl.cipherSuites(bundle.getOptions().getCiphers());
        }
        if (bundle.getOptions().getEnabledProtocols() != null) {
            ssl.protocols(bundle.getOptions().getEnabledProtocols());
        }
        return ssl.build();
    }

    private static <T> void apply(Map<String, Object> given, String property, T value, Consumer<T> setter) {
        if (value != null) {
            given.put(property, value);
        }
        apply(property, value, setter);
    }

    /** Applies a set value; the library's IllegalArgumentException becomes a failure naming the property. */
    private static <T> void apply(String property, T value, Consumer<T> setter) {
        if (value == null) {
            return;
        }
        try {
            setter.accept(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
        }
    }
}
