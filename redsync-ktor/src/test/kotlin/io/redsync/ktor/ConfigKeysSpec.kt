package io.redsync.ktor

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.ktor.server.config.ApplicationConfig
import io.ktor.server.config.ApplicationConfigValue
import io.ktor.server.config.MapApplicationConfig
import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.coroutines.KeepAliveBuilder
import io.redsync.coroutines.LockOptionsBuilder
import io.redsync.coroutines.RedsyncConfig
import java.io.File
import java.lang.reflect.Modifier
import kotlin.reflect.KClass
import kotlin.reflect.KVisibility

/**
 * One list of settings ([ConfigKeys.ALL], [ConfigKeys.BLOCK_ONLY]) against everything that has settings: the Java builders,
 * the Kotlin DSL, the plugin's block, the config reader and RedsyncPluginConfig's KDoc tables. A setting added to
 * any of them, and not to the list, fails here with what to do. Regenerate the KDoc tables from the list with:
 * mvn -pl redsync-ktor -am test -Dtest=ConfigKeysSpec -Dsurefire.failIfNoSpecifiedTests=false -Dconfig.update=true
 */
class ConfigKeysSpec : FunSpec({
    val listed = ConfigKeys.ALL.map { it.setting }.toSet() + ConfigKeys.BLOCK_ONLY.map { it.first }

    test("every setting of the Java builders, the Kotlin DSL and the plugin's block has a config key or says why not") {
        val unaccounted = (allSettings().keys - listed).sorted().map { "$it (of ${allSettings()[it]})" }
        withClue("add a key to ConfigKeys.ALL (and read it in RedsyncPluginConfig.kt), or the setting to ConfigKeys.BLOCK_ONLY with why") {
            unaccounted.shouldBeEmpty()
        }
    }

    test("the list names no setting that no builder has") {
        withClue("a setting in ConfigKeys.ALL or ConfigKeys.BLOCK_ONLY that the builders no longer have: remove or rename it") {
            (listed - allSettings().keys).sorted().shouldBeEmpty()
        }
    }

    test("the plugin's block offers every setting of the Kotlin DSL's RedsyncConfig") {
        withClue("RedsyncConfig gained a setting RedsyncPluginConfig lacks: add it to the plugin's block") {
            (members(RedsyncConfig::class) - members(RedsyncPluginConfig::class)).sorted().shouldBeEmpty()
        }
    }

    test("the reader reads exactly the listed keys") {
        val asked = mutableSetOf<String>()
        RedsyncPluginConfig(Recording(MapApplicationConfig(), asked))
        asked shouldBe ConfigKeys.ALL.map { it.name }.toSet()
    }

    test("RedsyncPluginConfig's KDoc tables are rendered from the list") {
        val source = File("src/main/kotlin/io/redsync/ktor/RedsyncPluginConfig.kt")
        val text = source.readText()
        val rendered = text.replaceTable(KEYS_HEADER, keyRows()).replaceTable(BLOCK_HEADER, blockRows())
        if (System.getProperty("config.update") == "true") source.writeText(rendered)
        rendered shouldBe source.readText()
    }
})

private const val KEYS_HEADER = " * | key | type | example | sets |\n * |---|---|---|---|\n"
private const val BLOCK_HEADER = " * | setting | why |\n * |---|---|\n"

private fun keyRows(): List<String> = ConfigKeys.ALL.map { " * | `${it.name}` | ${it.type} | ${it.example} | [${it.setting}] |" }

private fun blockRows(): List<String> = ConfigKeys.BLOCK_ONLY.map { (setting, why) -> " * | `$setting` | $why |" }

/** Replaces the rows after [header] (up to the first line that is not a table row) with [rows]. */
private fun String.replaceTable(header: String, rows: List<String>): String {
    val start = indexOf(header).also { check(it >= 0) { "no table starting with\n$header" } } + header.length
    var end = start
    while (startsWith(" * |", end)) end = indexOf('\n', end) + 1
    return substring(0, start) + rows.joinToString("") { "$it\n" } + substring(end)
}

/**
 * Every setting, named as in [ConfigKey.setting], with where it was found: the instance's (Java's
 * Redsync.Builder, the Kotlin DSL's RedsyncConfig, the plugin's block), the lock options' (`LockOptions.x`:
 * LockOptions.Builder, LockOptionsBuilder) and keep-alive's (`KeepAlive.x`: KeepAlive.Builder, KeepAliveBuilder).
 */
private fun allSettings(): Map<String, List<String>> {
    val found = mutableMapOf<String, MutableList<String>>()
    fun add(prefix: String, names: Set<String>, where: String) = names.forEach { found.getOrPut(prefix + it) { mutableListOf() } += where }
    add("", javaSetters(io.redsync.Redsync.Builder::class.java), "Redsync.Builder")
    add("", members(RedsyncConfig::class), "RedsyncConfig")
    add("", members(RedsyncPluginConfig::class), "RedsyncPluginConfig")
    add("LockOptions.", javaSetters(LockOptions.Builder::class.java), "LockOptions.Builder")
    add("LockOptions.", members(LockOptionsBuilder::class), "LockOptionsBuilder")
    add("KeepAlive.", javaSetters(KeepAlive.Builder::class.java), "KeepAlive.Builder")
    add("KeepAlive.", members(KeepAliveBuilder::class), "KeepAliveBuilder")
    return found
}

/** The public methods a Java builder declares, but `build()`. */
private fun javaSetters(type: Class<*>): Set<String> =
    type.declaredMethods.filter { Modifier.isPublic(it.modifiers) && !it.isSynthetic && it.name != "build" }.map { it.name }.toSet()

/** The public properties and functions a Kotlin class declares (Kotlin-public: internal ones are left out). */
private fun members(type: KClass<*>): Set<String> =
    type.members.filter { it.visibility == KVisibility.PUBLIC && it.name !in setOf("equals", "hashCode", "toString") }.map { it.name }.toSet()

/** Passes [delegate]'s values on, writing down every key asked for. */
private class Recording(private val delegate: ApplicationConfig, private val asked: MutableSet<String>) : ApplicationConfig {
    override fun property(path: String): ApplicationConfigValue = delegate.property(path).also { asked += path }
    override fun propertyOrNull(path: String): ApplicationConfigValue? = delegate.propertyOrNull(path).also { asked += path }
    override fun config(path: String): ApplicationConfig = delegate.config(path)
    override fun configList(path: String): List<ApplicationConfig> = delegate.configList(path)
    override fun keys(): Set<String> = delegate.keys()
    override fun toMap(): Map<String, Any?> = delegate.toMap()
}
