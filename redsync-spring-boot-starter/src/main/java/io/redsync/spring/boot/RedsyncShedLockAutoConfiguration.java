package io.redsync.spring.boot;

import io.redsync.Redsync;
import io.redsync.shedlock.RedsyncLockProvider;
import net.javacrumbs.shedlock.core.LockProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;

import java.time.Duration;

/**
 * Makes a ShedLock {@link LockProvider} over the {@link Redsync} bean when shedlock-core and redsync-shedlock are
 * on the class path, unless the application defines a {@code LockProvider} or sets
 * {@code redsync.shedlock.enabled=false}. Jobs still need {@code @EnableSchedulerLock} and {@code @SchedulerLock}.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = RedsyncAutoConfiguration.class)
@ConditionalOnClass({LockProvider.class, RedsyncLockProvider.class})
@ConditionalOnBean(Redsync.class)
@ConditionalOnBooleanProperty(name = "redsync.shedlock.enabled", matchIfMissing = true)
public class RedsyncShedLockAutoConfiguration {

    /** Created by Spring. @since 0.1.0 */
    public RedsyncShedLockAutoConfiguration() {
    }

    /**
     * The provider, with {@code redsync.shedlock.key-prefix} and {@code redsync.shedlock.keep-alive-expiry}.
     *
     * @param redsync    the instance
     * @param properties the settings
     * @return the provider
     * @since 0.1.0
     */
    @Bean
    @ConditionalOnMissingBean(LockProvider.class)
    public RedsyncLockProvider redsyncLockProvider(Redsync redsync, RedsyncProperties properties) {
        RedsyncProperties.Shedlock shedlock = properties.getShedlock();
        RedsyncLockProvider.Builder builder = RedsyncLockProvider.builder(redsync).keyPrefix(shedlock.getKeyPrefix());
        Duration keep = shedlock.getKeepAliveExpiry();
        if (keep != null) {
            try {
                builder.keepAlive(keep);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigurationPropertyValueException("redsync.shedlock.keep-alive-expiry", keep, e.getMessage());
            }
        }
        return builder.build();
    }
}
