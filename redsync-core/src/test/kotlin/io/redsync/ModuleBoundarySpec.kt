package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.lang.module.Configuration
import java.lang.module.ModuleDescriptor
import java.lang.module.ModuleFinder
import java.lang.reflect.Modifier
import java.nio.file.Path

/**
 * The module boundary of redsync-core (issue 17). The specs run on the class path (see the surefire note in the
 * pom), so the boundary is checked here: the module as users on the module path get it, resolved from
 * target/classes and its dependencies' jars, exports the API, `spi` and `lettuce` only; and on the class path, where
 * no module-info applies, nothing of the engine is public but its one door, `Internals`.
 */
class ModuleBoundarySpec : FunSpec({
    val classes = File("target/classes")
    val api = setOf("io.redsync", "io.redsync.spi", "io.redsync.lettuce")

    test("module io.redsync exports exactly the API, spi and lettuce packages and opens none") {
        val descriptor = File(classes, "module-info.class").inputStream().use { ModuleDescriptor.read(it) }
        descriptor.name() shouldBe "io.redsync"
        descriptor.exports().map { it.source() }.toSet() shouldBe api
        descriptor.exports().filter { it.isQualified }.map { it.source() } shouldBe emptyList()
        descriptor.opens().map { it.source() } shouldBe emptyList()
    }

    test("on the module path it resolves with its dependencies, holds no package but those and internal, and does not export internal") {
        // The module's requires must be satisfiable by the jars a user has (Lettuce and what it brings, SLF4J).
        val jars = System.getProperty("java.class.path").split(File.pathSeparator).map(::File).filter { f ->
            val n = f.name
            n.endsWith(".jar") && !n.contains("native") && listOf("lettuce-core", "reactor-core", "reactive-streams",
                "slf4j-api", "netty-").any { n.startsWith(it) }
        }
        val finder = ModuleFinder.of(*(listOf(classes) + jars).map { it.toPath() }.toTypedArray<Path>())
        val boot = ModuleLayer.boot()
        val cf = Configuration.resolve(finder, listOf(boot.configuration()), ModuleFinder.of(), setOf("io.redsync"))
        val layer = ModuleLayer.defineModulesWithOneLoader(cf, listOf(boot), ClassLoader.getPlatformClassLoader()).layer()
        val module = layer.findModule("io.redsync").orElseThrow()
        // A new package is a decision: exported API, or engine.
        module.descriptor.packages() shouldBe api + "io.redsync.internal"
        api.forEach { module.isExported(it) shouldBe true }
        module.isExported("io.redsync.internal") shouldBe false
        // A user's code (the unnamed module of this spec) cannot reach an internal type through the module.
        val internals = layer.findLoader("io.redsync").loadClass("io.redsync.internal.Internals")
        internals.module shouldBe module
        module.isExported("io.redsync.internal", javaClass.module) shouldBe false
    }

    test("on the class path no type of io.redsync.internal is public but Internals, the API packages' one door") {
        val dir = File(classes, "io/redsync/internal")
        val public = dir.listFiles { f -> f.name.endsWith(".class") }!!
            .map { "io.redsync.internal." + it.name.removeSuffix(".class") }
            .map { Class.forName(it, false, ModuleBoundarySpec::class.java.classLoader) }
            .filter { Modifier.isPublic(it.modifiers) && generateSequence(it) { c -> c.enclosingClass }.all { c -> Modifier.isPublic(c.modifiers) } }
            .map { it.simpleName }
        public shouldBe listOf("Internals")
    }
})
