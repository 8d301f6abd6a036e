package io.redsync.testkit

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.lang.reflect.Modifier

/**
 * The testkit's public API is committed as text (api/redsync-testkit.api), as redsync-core's is, so a change
 * shows up in review. Accept an intended change with:
 * mvn -pl redsync-testkit test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-testkit.api") {
        val dump = renderTestkitApi()
        val file = File("api/redsync-testkit.api")
        if (System.getProperty("api.update") == "true") file.apply { parentFile.mkdirs() }.writeText(dump)
        dump shouldBe file.readText()
        listOf("final class io.redsync.testkit.RedisNodes", "interface io.redsync.testkit.RedisNode",
            "final class io.redsync.testkit.FaultProxy").forEach { dump shouldContain it }
    }
})

/**
 * One block per public type compiled from src/main (target/classes), members sorted: the same format as
 * redsync-core's dump. Types are found by listing the class files, so no scanning library is needed.
 */
private fun renderTestkitApi(): String {
    val root = File("target/classes")
    return root.walk().filter { it.isFile && it.name.endsWith(".class") && it.name != "module-info.class" }
        .map { it.relativeTo(root).path.removeSuffix(".class").replace(File.separatorChar, '.') }
        .map { Class.forName(it, false, RedisNodes::class.java.classLoader) }
        .filter { c -> !c.isSynthetic && generateSequence(c) { it.enclosingClass }.all { Modifier.isPublic(it.modifiers) } }
        .sortedBy { it.name }
        .joinToString("\n") { type ->
            val kind = if (type.isInterface) "interface" else if (type.isEnum) "enum" else if (type.isRecord) "record" else "class"
            val modifiers = if (type.isInterface) "" else Modifier.toString(type.modifiers and (Modifier.ABSTRACT or Modifier.FINAL))
            val parent = type.genericSuperclass?.takeIf {
                it != Any::class.java && it.typeName != "java.lang.Enum<${type.name}>" && it != java.lang.Record::class.java
            }?.let { " extends ${it.typeName}" } ?: ""
            val interfaces = type.genericInterfaces.takeIf { it.isNotEmpty() }?.joinToString(", ", " implements ") { it.typeName } ?: ""
            val header = (if (modifiers.isEmpty()) "" else "$modifiers ") + "$kind ${type.name}$parent$interfaces"
            val members = (type.declaredConstructors.filter { visible(it.modifiers) }.map { it.toGenericString() } +
                type.declaredMethods.filter { visible(it.modifiers) && !it.isSynthetic && !it.isBridge }.map { it.toGenericString() } +
                type.declaredFields.filter { visible(it.modifiers) && !it.isSynthetic }.map { it.toGenericString() }).sorted()
            (listOf(header) + members.map { "  $it" }).joinToString("\n", postfix = "\n")
        }
}

private fun visible(modifiers: Int) = Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers)
