package io.redsync.spring.boot;

import io.lettuce.core.resource.ClientResources;
import io.redsync.Redsync;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;

import java.util.Optional;

/**
 * Makes a {@link Redsync} bean from the {@code redsync.*} properties ({@link RedsyncProperties}) unless the
 * application defines one. It runs on Spring Boot's Lettuce {@link ClientResources} when there is such a bean
 * (spring-boot-data-redis makes one), so one set of event loops serves both, and applies every
 * {@link RedsyncBuilderCustomizer} before building. The bean is closed with the context (before the resources
 * it uses).
 *
 * @since 0.1.0
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
        "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
        "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration"})
@ConditionalOnClass(Redsync.class)
@EnableConfigurationProperties(RedsyncProperties.class)
public class RedsyncAutoConfiguration {

    /** Created by Spring. @since 0.1.0 */
    public RedsyncAutoConfiguration() {
    }

    /**
     * The instance over {@code redsync.nodes}.
     *
     * @param properties      the settings
     * @param clientResources Boot's Lettuce resources, if any (Optional: the bean then depends on them, so it is
     *                        closed first)
     * @param sslBundles      Boot's SSL bundles, for {@code redsync.ssl.bundle}
     * @param customizers     applied in order before building
     * @return the instance
     * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException if a
     *         property's value is rejected (the failure names the property)
     * @since 0.1.0
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Redsync redsync(RedsyncProperties properties, Optional<ClientResources> clientResources,
                           ObjectProvider<SslBundles> sslBundles, ObjectProvider<RedsyncBuilderCustomizer> customizers) {
        Redsync.Builder builder = RedsyncBuilderFactory.builder(properties, sslBundles.getIfAvailable());
        clientResources.ifPresent(builder::clientResources);
        customizers.orderedStream().forEach(c -> c.customize(builder));
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            // What only the whole set can tell, e.g. two URIs naming one server.
            boolean tls = String.valueOf(e.getMessage()).startsWith("sslOptions");
            throw new InvalidConfigurationPropertyValueException(tls ? "redsync.ssl.bundle" : "redsync.nodes",
                    tls ? properties.getSsl().getBundle() : properties.getNodes(), e.getMessage());
        }
    }
}
