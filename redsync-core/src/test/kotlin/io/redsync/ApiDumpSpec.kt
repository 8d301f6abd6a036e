package io.redsync

import io.github.classgraph.ClassGraph
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.lang.reflect.Modifier

/**
 * The public API is committed as text (api/redsync-core.api); a change to it is a design decision that
 * shows up in review. Accept an intended change with: mvn -pl redsync-core test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-core.api") {
        val dump = renderApi("io.redsync", "io.redsync.spi", "io.redsync.lettuce")
        val file = File("api/redsync-core.api")
        if (System.getProperty("api.update") == "true") file.writeText(dump)
        dump shouldBe file.readText()
    }

    test("no public type of the API packages lives in io.redsync.internal, and the dump covers the entry points") {
        val dump = renderApi("io.redsync", "io.redsync.spi", "io.redsync.lettuce")
        listOf("interface io.redsync.Redsync", "interface io.redsync.Mutex", "interface io.redsync.Lease",
            "final class io.redsync.LockOptions", "interface io.redsync.spi.LockNode").forEach {
            dump.contains(it) shouldBe true
        }
    }
})

/** One block per public type of the main classes (not the tests) in [packages], members sorted. */
fun renderApi(vararg packages: String): String {
    val mainClasses = File("target/classes").absoluteFile.toURI().toString()
    return ClassGraph().acceptPackagesNonRecursive(*packages).enableClassInfo().scan().use { scan ->
        scan.allClasses
            .filter { it.isPublic || it.isProtected }
            .map { it.loadClass() }
            .filter { it.protectionDomain.codeSource.location.toString() == mainClasses }
            .filter { c -> generateSequence(c) { it.enclosingClass }.all { Modifier.isPublic(it.modifiers) } }
            .sortedBy { it.name }
            .joinToString("\n") { type ->
                val header = Modifier.toString(type.modifiers and (Modifier.ABSTRACT or Modifier.FINAL).let {
                    if (type.isInterface) 0 else it
                }).let { if (it.isEmpty()) "" else "$it " } +
                    (if (type.isInterface) "interface" else if (type.isEnum) "enum" else if (type.isRecord) "record" else "class") +
                    " " + type.name +
                    (type.genericSuperclass?.takeIf { it != Any::class.java && it.typeName != "java.lang.Enum<${type.name}>" && it != java.lang.Record::class.java }
                        ?.let { " extends ${it.typeName}" } ?: "") +
                    (type.genericInterfaces.takeIf { it.isNotEmpty() }?.joinToString(", ", " implements ") { it.typeName } ?: "")
                val members = (type.declaredConstructors.filter { visible(it.modifiers) }.map { it.toGenericString() } +
                    type.declaredMethods.filter { visible(it.modifiers) && !it.isSynthetic && !it.isBridge }.map { it.toGenericString() } +
                    type.declaredFields.filter { visible(it.modifiers) && !it.isSynthetic }.map { it.toGenericString() })
                    .sorted()
                (listOf(header) + members.map { "  $it" }).joinToString("\n", postfix = "\n")
            }
    }
}

private fun visible(modifiers: Int) = Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers)
