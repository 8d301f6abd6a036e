package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.lang.reflect.Modifier
import kotlin.reflect.KCallable
import kotlin.reflect.KVisibility
import kotlin.reflect.full.declaredMembers
import kotlin.reflect.jvm.kotlinFunction

/**
 * The public API is committed as text (api/redsync-coroutines.api), in Kotlin terms: what a Kotlin user
 * can call (internal declarations, public in bytecode, are left out). A change to it is a design decision
 * that shows up in review. Accept an intended change with:
 * mvn -pl redsync-coroutines test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-coroutines.api") {
        val dump = renderApi(File("target/classes/io/redsync/coroutines"), "io.redsync.coroutines")
        val file = File("api/redsync-coroutines.api")
        if (System.getProperty("api.update") == "true") {
            file.parentFile.mkdirs()
            file.writeText(dump)
        }
        dump shouldBe file.readText()
    }
})

private fun renderApi(dir: File, pkg: String): String {
    val topLevel = dir.listFiles { f -> f.name.endsWith(".class") && !f.name.contains('$') }!!
        .map { Class.forName("$pkg.${it.name.removeSuffix(".class")}", false, ApiDumpSpec::class.java.classLoader) }
    // Public to Kotlin: JVM-public, and for classes (not file facades) Kotlin-public; nested types (the
    // events of a sealed interface) only inside such types.
    fun included(c: Class<*>) = Modifier.isPublic(c.modifiers) &&
        (c.getAnnotation(Metadata::class.java)?.kind == 2 || c.kotlin.visibility == KVisibility.PUBLIC)
    val types = generateSequence(topLevel.filter(::included)) { level ->
        level.flatMap { it.declaredClasses.filter(::included) }.ifEmpty { null }
    }.flatten().sortedBy { it.name }.toList()
    return types.mapNotNull { type ->
        val facade = type.getAnnotation(Metadata::class.java)?.kind == 2 // a file's top-level declarations
        if (facade) {
            val functions = type.declaredMethods
                .mapNotNull { it.kotlinFunction }
                .filter { it.visibility == KVisibility.PUBLIC }
                .map { render(it) }
                .sorted()
            // A file with internal declarations only has no API.
            if (functions.isEmpty()) null else (listOf("file ${type.simpleName}") + functions.map { "  $it" }).joinToString("\n", postfix = "\n")
        } else {
            val k = type.kotlin
            val kind = when {
                type.isAnnotation -> "annotation class"
                type.isInterface -> (if (k.isSealed) "sealed " else "") + "interface"
                else -> "class"
            }
            val header = listOfNotNull(if (k.isFinal || type.isInterface) null else "open", kind, k.qualifiedName)
                .joinToString(" ") + k.annotations.joinToString("") { " @" + it.annotationClass.simpleName }
            val members = (k.constructors + k.declaredMembers)
                .filter { it.visibility == KVisibility.PUBLIC }
                .map { render(it) }
                .sorted()
            (listOf(header) + members.map { "  $it" }).joinToString("\n", postfix = "\n")
        }
    }.joinToString("\n")
}

private fun render(c: KCallable<*>): String = (if (c.isSuspend) "suspend " else "") + c.toString()
