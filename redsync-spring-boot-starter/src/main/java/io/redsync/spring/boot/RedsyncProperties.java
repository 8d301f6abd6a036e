package io.redsync.spring.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code redsync.*} settings of the {@link io.redsync.Redsync} bean the starter makes, and of its ShedLock
 * provider and lock registry. An unset value keeps the library's default; a bad value fails the application's
 * start with the property's name.
 *
 * <pre>
 * redsync.nodes=redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379
 * redsync.lock.expiry=10s
 * redsync.shedlock.keep-alive-expiry=15s
 * </pre>
 *
 * @since 0.1.0
 */
@ConfigurationProperties("redsync")
public class RedsyncProperties {
    /** One URI per independent Redis master: redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. */
    private List<String> nodes = new ArrayList<>();

    /** Namespace put before every lock name to form its Redis key, e.g. "billing:". */
    private String keyPrefix = "";

    /** How long connecting to a node may take (library default: 5s). */
    private Duration connectTimeout;

    private final Lock lock = new Lock();
    private final KeepAlive keepAlive = new KeepAlive();
    private final Ssl ssl = new Ssl();
    private final Shedlock shedlock = new Shedlock();
    private final LockRegistry lockRegistry = new LockRegistry();
    private final Metrics metrics = new Metrics();

    /** Creates the settings with every value unset. @since 0.1.0 */
    public RedsyncProperties() {
    }

    /** @return the node URIs @since 0.1.0 */
    public List<String> getNodes() {
        return nodes;
    }

    /** @param nodes the node URIs @since 0.1.0 */
    public void setNodes(List<String> nodes) {
        this.nodes = nodes;
    }

    /** @return the key prefix @since 0.1.0 */
    public String getKeyPrefix() {
        return keyPrefix;
    }

    /** @param keyPrefix the key prefix @since 0.1.0 */
    public void setKeyPrefix(String keyPrefix) {
        this.keyPrefix = keyPrefix;
    }

    /** @return the connect timeout, null for the library's @since 0.1.0 */
    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    /** @param connectTimeout the connect timeout @since 0.1.0 */
    public void setConnectTimeout(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    /** @return the default lock options ({@code redsync.lock.*}) @since 0.1.0 */
    public Lock getLock() {
        return lock;
    }

    /** @return the keep-alive policy ({@code redsync.keep-alive.*}) @since 0.1.0 */
    public KeepAlive getKeepAlive() {
        return keepAlive;
    }

    /** @return the TLS settings ({@code redsync.ssl.*}) @since 0.1.0 */
    public Ssl getSsl() {
        return ssl;
    }

    /** @return the ShedLock provider's settings ({@code redsync.shedlock.*}) @since 0.1.0 */
    public Shedlock getShedlock() {
        return shedlock;
    }

    /** @return the lock registry's settings ({@code redsync.lock-registry.*}) @since 0.1.0 */
    public LockRegistry getLockRegistry() {
        return lockRegistry;
    }

    /** @return the metrics' settings ({@code redsync.metrics.*}) @since 0.1.0 */
    public Metrics getMetrics() {
        return metrics;
    }

    /**
     * The default lock options ({@code redsync.lock.*}), as {@link io.redsync.LockOptions} names them.
     *
     * @since 0.1.0
     */
    public static class Lock {
        /** The lease's time to live on the nodes (library default: 8s). */
        private Duration expiry;

        /** Attempts per lock() call (library default: 32). */
        private Integer tries;

        /** Shortest random wait between attempts (library default: 50ms); set with retry-delay-max. */
        private Duration retryDelayMin;

        /** Longest random wait between attempts (library default: 250ms); set with retry-delay-min. */
        private Duration retryDelayMax;

        /** Clock drift allowance, times the expiry, in (0, 1) (library default: 0.01). */
        private Double driftFactor;

        /** Per-node timeout as a fraction of the expiry, in (0, 1) (library default: 0.05, at most 2s). */
        private Double timeoutFactor;

        /** Longest wait for one node's answer; overrides timeout-factor. */
        private Duration nodeTimeout;

        /** Total time budget of one lock() call (library default: none). */
        private Duration acquireTimeout;

        /** Decide as soon as a quorum agrees either way (library default: false). */
        private Boolean failFast;

        /** Ask the nodes in a random order per mutex (library default: false). */
        private Boolean shufflePools;

        /** Wake waiters when the holder releases, instead of polling (library default: true). */
        private Boolean releaseNotifications;

        /** Give each lease a strictly increasing fencing token (library default: false). */
        private Boolean fencing;

        /** Creates the options with every value unset. @since 0.1.0 */
        public Lock() {
        }

        /** @return the expiry @since 0.1.0 */
        public Duration getExpiry() {
            return expiry;
        }

        /** @param expiry the expiry @since 0.1.0 */
        public void setExpiry(Duration expiry) {
            this.expiry = expiry;
        }

        /** @return the tries @since 0.1.0 */
        public Integer getTries() {
            return tries;
        }

        /** @param tries the tries @since 0.1.0 */
        public void setTries(Integer tries) {
            this.tries = tries;
        }

        /** @return the shortest retry delay @since 0.1.0 */
        public Duration getRetryDelayMin() {
            return retryDelayMin;
        }

        /** @param retryDelayMin the shortest retry delay @since 0.1.0 */
        public void setRetryDelayMin(Duration retryDelayMin) {
            this.retryDelayMin = retryDelayMin;
        }

        /** @return the longest retry delay @since 0.1.0 */
        public Duration getRetryDelayMax() {
            return retryDelayMax;
        }

        /** @param retryDelayMax the longest retry delay @since 0.1.0 */
        public void setRetryDelayMax(Duration retryDelayMax) {
            this.retryDelayMax = retryDelayMax;
        }

        /** @return the drift factor @since 0.1.0 */
        public Double getDriftFactor() {
            return driftFactor;
        }

        /** @param driftFactor the drift factor @since 0.1.0 */
        public void setDriftFactor(Double driftFactor) {
            this.driftFactor = driftFactor;
        }

        /** @return the timeout factor @since 0.1.0 */
        public Double getTimeoutFactor() {
            return timeoutFactor;
        }

        /** @param timeoutFactor the timeout factor @since 0.1.0 */
        public void setTimeoutFactor(Double timeoutFactor) {
            this.timeoutFactor = timeoutFactor;
        }

        /** @return the node timeout @since 0.1.0 */
        public Duration getNodeTimeout() {
            return nodeTimeout;
        }

        /** @param nodeTimeout the node timeout @since 0.1.0 */
        public void setNodeTimeout(Duration nodeTimeout) {
            this.nodeTimeout = nodeTimeout;
        }

        /** @return the acquire timeout @since 0.1.0 */
        public Duration getAcquireTimeout() {
            return acquireTimeout;
        }

        /** @param acquireTimeout the acquire timeout @since 0.1.0 */
        public void setAcquireTimeout(Duration acquireTimeout) {
            this.acquireTimeout = acquireTimeout;
        }

        /** @return whether to fail fast @since 0.1.0 */
        public Boolean getFailFast() {
            return failFast;
        }

        /** @param failFast whether to fail fast @since 0.1.0 */
        public void setFailFast(Boolean failFast) {
            this.failFast = failFast;
        }

        /** @return whether to shuffle the nodes @since 0.1.0 */
        public Boolean getShufflePools() {
            return shufflePools;
        }

        /** @param shufflePools whether to shuffle the nodes @since 0.1.0 */
        public void setShufflePools(Boolean shufflePools) {
            this.shufflePools = shufflePools;
        }

        /** @return whether waiters are notified @since 0.1.0 */
        public Boolean getReleaseNotifications() {
            return releaseNotifications;
        }

        /** @param releaseNotifications whether waiters are notified @since 0.1.0 */
        public void setReleaseNotifications(Boolean releaseNotifications) {
            this.releaseNotifications = releaseNotifications;
        }

        /** @return whether leases carry fencing tokens @since 0.1.0 */
        public Boolean getFencing() {
            return fencing;
        }

        /** @param fencing whether leases carry fencing tokens @since 0.1.0 */
        public void setFencing(Boolean fencing) {
            this.fencing = fencing;
        }
    }

    /**
     * How leases are kept alive ({@code redsync.keep-alive.*}), as {@link io.redsync.KeepAlive} names it.
     *
     * @since 0.1.0
     */
    public static class KeepAlive {
        /** Whether executeLocked and the lock registry keep leases alive (library default: true). */
        private Boolean enabled;

        /** Longest time between extensions (library default: a third of the expiry). */
        private Duration interval;

        /** How long before the deadline a lease that could not be extended counts as lost (library default: a tenth of the expiry). */
        private Duration lostMargin;

        /** Longest time a lease is kept alive (library default: no limit). */
        private Duration maxDuration;

        /** Most extensions made (library default: no limit). */
        private Integer maxExtensions;

        /** Creates the policy with every value unset. @since 0.1.0 */
        public KeepAlive() {
        }

        /** @return whether enabled @since 0.1.0 */
        public Boolean getEnabled() {
            return enabled;
        }

        /** @param enabled whether enabled @since 0.1.0 */
        public void setEnabled(Boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the interval @since 0.1.0 */
        public Duration getInterval() {
            return interval;
        }

        /** @param interval the interval @since 0.1.0 */
        public void setInterval(Duration interval) {
            this.interval = interval;
        }

        /** @return the lost margin @since 0.1.0 */
        public Duration getLostMargin() {
            return lostMargin;
        }

        /** @param lostMargin the lost margin @since 0.1.0 */
        public void setLostMargin(Duration lostMargin) {
            this.lostMargin = lostMargin;
        }

        /** @return the longest keeping @since 0.1.0 */
        public Duration getMaxDuration() {
            return maxDuration;
        }

        /** @param maxDuration the longest keeping @since 0.1.0 */
        public void setMaxDuration(Duration maxDuration) {
            this.maxDuration = maxDuration;
        }

        /** @return the most extensions @since 0.1.0 */
        public Integer getMaxExtensions() {
            return maxExtensions;
        }

        /** @param maxExtensions the most extensions @since 0.1.0 */
        public void setMaxExtensions(Integer maxExtensions) {
            this.maxExtensions = maxExtensions;
        }
    }

    /**
     * TLS for {@code rediss://} nodes ({@code redsync.ssl.*}).
     *
     * @since 0.1.0
     */
    public static class Ssl {
        /** Name of a Spring Boot SSL bundle (spring.ssl.bundle.*) with the trust store or CA certificate, and a client certificate if the nodes ask for one. Without it the JVM's trust store is used. */
        private String bundle;

        /** Creates the settings with no bundle. @since 0.1.0 */
        public Ssl() {
        }

        /** @return the bundle's name @since 0.1.0 */
        public String getBundle() {
            return bundle;
        }

        /** @param bundle the bundle's name @since 0.1.0 */
        public void setBundle(String bundle) {
            this.bundle = bundle;
        }
    }

    /**
     * The ShedLock provider ({@code redsync.shedlock.*}), made when shedlock-core and redsync-shedlock are on the
     * class path and the application defines no {@code LockProvider}.
     *
     * @since 0.1.0
     */
    public static class Shedlock {
        /** Whether to make the ShedLock LockProvider bean. */
        private boolean enabled = true;

        /** Prefix put before every job name to form the lock's name. */
        private String keyPrefix = "shedlock:";

        /** A short expiry kept alive while a job runs (capped at lockAtMostFor), so a crashed instance frees its jobs within it; unset: lockAtMostFor is the expiry. */
        private Duration keepAliveExpiry;

        /** Creates the settings with the defaults. @since 0.1.0 */
        public Shedlock() {
        }

        /** @return whether enabled @since 0.1.0 */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether enabled @since 0.1.0 */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the key prefix @since 0.1.0 */
        public String getKeyPrefix() {
            return keyPrefix;
        }

        /** @param keyPrefix the key prefix @since 0.1.0 */
        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        /** @return the keep-alive expiry, null for none @since 0.1.0 */
        public Duration getKeepAliveExpiry() {
            return keepAliveExpiry;
        }

        /** @param keepAliveExpiry the keep-alive expiry @since 0.1.0 */
        public void setKeepAliveExpiry(Duration keepAliveExpiry) {
            this.keepAliveExpiry = keepAliveExpiry;
        }
    }

    /**
     * The Spring Integration lock registry ({@code redsync.lock-registry.*}), made when spring-integration-core and
     * redsync-spring-integration are on the class path and the application defines no {@code LockRegistry}.
     *
     * @since 0.1.0
     */
    public static class LockRegistry {
        /** Whether to make the LockRegistry bean. */
        private boolean enabled = true;

        /** Prefix put before every lock key to form the lock's name. */
        private String keyPrefix = "lock-registry:";

        /** Creates the settings with the defaults. @since 0.1.0 */
        public LockRegistry() {
        }

        /** @return whether enabled @since 0.1.0 */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether enabled @since 0.1.0 */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the key prefix @since 0.1.0 */
        public String getKeyPrefix() {
            return keyPrefix;
        }

        /** @param keyPrefix the key prefix @since 0.1.0 */
        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }
    }

    /**
     * Meters and Observations through redsync-micrometer ({@code redsync.metrics.*}), registered on the
     * {@code Redsync} bean when redsync-micrometer is on the class path and the application has a
     * {@code MeterRegistry} bean.
     *
     * @since 0.1.0
     */
    public static class Metrics {
        /** Whether to register redsync-micrometer's listener on the Redsync bean. */
        private boolean enabled = true;

        /** Creates the settings with the defaults. @since 0.1.0 */
        public Metrics() {
        }

        /** @return whether enabled @since 0.1.0 */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether enabled @since 0.1.0 */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
