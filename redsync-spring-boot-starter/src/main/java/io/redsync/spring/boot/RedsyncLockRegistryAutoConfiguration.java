package io.redsync.spring.boot;

import io.redsync.Redsync;
import io.redsync.spring.integration.RedsyncLockRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.integration.support.locks.LockRegistry;

/**
 * Makes a Spring Integration {@link LockRegistry} over the {@link Redsync} bean when spring-integration-core and
 * redsync-spring-integration are on the class path, unless the application defines a {@code LockRegistry} or sets
 * {@code redsync.lock-registry.enabled=false}. Its locks use the instance's default lock options.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = RedsyncAutoConfiguration.class)
@ConditionalOnClass({LockRegistry.class, RedsyncLockRegistry.class})
@ConditionalOnBean(Redsync.class)
@ConditionalOnBooleanProperty(name = "redsync.lock-registry.enabled", matchIfMissing = true)
public class RedsyncLockRegistryAutoConfiguration {

    /** Created by Spring. @since 0.1.0 */
    public RedsyncLockRegistryAutoConfiguration() {
    }

    /**
     * The registry, with {@code redsync.lock-registry.key-prefix}.
     *
     * @param redsync    the instance
     * @param properties the settings
     * @return the registry
     * @since 0.1.0
     */
    @Bean
    @ConditionalOnMissingBean(LockRegistry.class)
    public RedsyncLockRegistry redsyncLockRegistry(Redsync redsync, RedsyncProperties properties) {
        return new RedsyncLockRegistry(redsync, properties.getLockRegistry().getKeyPrefix(), redsync.defaults());
    }
}
