package io.redsync.ktor

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import kotlin.reflect.KCallable
import kotlin.reflect.KVisibility
import kotlin.reflect.full.declaredMembers
import kotlin.reflect.jvm.kotlinFunction

/**
 * The public API is committed as text (api/redsync-ktor.api), in Kotlin terms: what a Kotlin user can
 * call (internal declarations, public in bytecode, are left out). A change to it is a design decision that
 * shows up in review. Accept an intended change with:
 * mvn -pl redsync-ktor test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-ktor.api") {
        val dump = renderApi(File("target/classes/io/redsync/ktor"), "io.redsync.ktor")
        val file = File("api/redsync-ktor.api")
        if (System.getProperty("api.update") == "true") {
            file.parentFile.mkdirs()
            file.writeText(dump)
        }
        dump shouldBe file.readText()
    }
})

private fun renderApi(dir: File, pkg: String): String {
    val loader = ApiDumpSpec::class.java.classLoader
    val topLevel = dir.listFiles { f -> f.name.endsWith(".class") && !f.name.contains('$') }!!
        .map { Class.forName("$pkg.${it.name.removeSuffix(".class")}", false, loader) }
    // Public to Kotlin: JVM-public, and for classes (not file facades) Kotlin-public; nested types only
    // inside such types, since an internal class's companion is public to reflection.
    fun included(c: Class<*>) = Modifier.isPublic(c.modifiers) &&
        (c.getAnnotation(Metadata::class.java)?.kind == 2 || c.kotlin.visibility == KVisibility.PUBLIC)
    val types = generateSequence(topLevel.filter(::included)) { level ->
        level.flatMap { it.declaredClasses.filter(::included) }.ifEmpty { null }
    }.flatten().sortedBy { it.name }.toList()
    return types.mapNotNull { type: Class<*> ->
        val facade = type.getAnnotation(Metadata::class.java)?.kind == 2 // a file's top-level declarations
        if (facade) {
            val members = type.declaredMethods
                .filter { Modifier.isPublic(it.modifiers) && !it.isSynthetic }
                .mapNotNull { method -> method.kotlinFunction?.let { if (it.visibility == KVisibility.PUBLIC) render(it) else null } ?: accessor(method) }
                .sorted()
            if (members.isEmpty()) null else (listOf("file ${type.simpleName}") + members.map { "  $it" }).joinToString("\n", postfix = "\n")
        } else {
            val k = type.kotlin
            val kind = when {
                type.isAnnotation -> "annotation class"
                type.isInterface -> (if (k.isSealed) "sealed " else "") + "interface"
                k.objectInstance != null -> if (k.isData) "data object" else "object"
                k.isData -> "data class"
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

/**
 * A top-level property's getter, which kotlin-reflect cannot map back from a facade method: shown by its JVM
 * name (`getRedsync` for both `Redsync` and `redsync`), with the receiver of an extension property. Keep
 * internal state out of top-level properties (in an internal class instead): this cannot tell it apart.
 */
private fun accessor(method: Method): String? {
    if (!method.name.startsWith("get") || method.returnType == Void.TYPE) return null
    val receiver = method.genericParameterTypes.singleOrNull()?.let { "${it.typeName}." } ?: ""
    return "val $receiver${method.name}(): ${method.genericReturnType.typeName}"
}

private fun render(c: KCallable<*>): String = (if (c.isSuspend) "suspend " else "") + c.toString()
