package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.assertions.fail
import java.io.File

/**
 * Keeps the documentation's code true: every fenced block in README.md and docs/\*.md is either the text of a
 * region of a compiled source (so a snippet that stops compiling fails the build, and the samples' specs run
 * the runnable ones), or says why it is not compiled. See "How the README's code is checked" in README.md.
 *
 * A block is tied to its source by the line right before its fence:
 *
 *     <!-- snippet: samples/src/main/java/io/redsync/samples/QuickStart.java#java-quick-start -->
 *     <!-- not compiled: shell commands -->
 *
 * and a region is marked in the source by lines containing `region README <name>` and `endregion` (in `//`,
 * `--` or `<!-- -->` comments). A region may come in several parts (say, the imports and a method): they
 * are joined with one blank line, each part without its common indentation.
 *
 * `-Dsnippets.update=true` rewrites the documents' blocks from the sources instead of failing.
 */
class ReadmeSnippetsSpec : FunSpec({
    val root = projectRoot()
    val documents = listOf(File(root, "README.md")) +
        (File(root, "docs").listFiles { f -> f.name.endsWith(".md") }?.sortedBy { it.name } ?: emptyList())
    val update = System.getProperty("snippets.update") == "true"

    test("every code block in README.md and docs/*.md is a compiled source's region, or says why not") {
        val problems = mutableListOf<String>()
        for (document in documents) {
            val (text, found) = checkDocument(root, document, update)
            if (update && text != document.readText()) document.writeText(text)
            problems += found
        }
        failOn(problems)
    }

    test("every README region in the sources is shown in a document (no orphan snippet drifting unseen)") {
        val used = documents.flatMap { doc -> parseBlocks(doc.readLines()).mapNotNull { it.snippet } }.toSet()
        val orphans = sourceRegions(root).filter { it !in used }
        failOn(orphans.map { "$it: no document shows this region; show it with <!-- snippet: $it --> or remove its markers" })
    }
})

private fun failOn(problems: List<String>) {
    if (problems.isNotEmpty()) fail("${problems.size} problem(s) in the documents' code:\n\n" + problems.joinToString("\n\n"))
}

/** The repository's root: the directory above this module holding README.md (Surefire runs in samples/). */
fun projectRoot(): File {
    var dir: File? = File("").absoluteFile
    while (dir != null && !(File(dir, "README.md").isFile && File(dir, "samples").isDirectory)) dir = dir.parentFile
    return dir ?: error("no README.md above ${File("").absolutePath}")
}

/** A fenced block: its opening line's index (0-based), language, marker and contents. */
data class Block(val line: Int, val language: String, val snippet: String?, val notCompiled: String?, val body: List<String>)

private val SNIPPET = Regex("""^<!-- snippet: (\S+#\S+) -->$""")
private val NOT_COMPILED = Regex("""^<!-- not compiled: (.+) -->$""")
private const val HOW_TO_MARK = "put `<!-- snippet: <path>#<region> -->` on the line before its fence, the code living in a " +
    "compiled source between `// region README <region>` and `// endregion`; or `<!-- not compiled: <why> -->` for shell " +
    "commands, program output and pom fragments"

fun parseBlocks(lines: List<String>): List<Block> {
    val blocks = mutableListOf<Block>()
    var i = 0
    while (i < lines.size) {
        val fence = lines[i]
        if (fence.startsWith("```")) {
            val end = (i + 1 until lines.size).firstOrNull { lines[it] == "```" } ?: error("unclosed ``` block at line ${i + 1}")
            val marker = if (i > 0) lines[i - 1].trim() else ""
            blocks += Block(i, fence.removePrefix("```").trim(), SNIPPET.find(marker)?.groupValues?.get(1),
                NOT_COMPILED.find(marker)?.groupValues?.get(1), lines.subList(i + 1, end))
            i = end + 1
        } else {
            i++
        }
    }
    return blocks
}

/** Checks one document; returns its text with snippet blocks rewritten from their sources, and the problems found. */
private fun checkDocument(root: File, document: File, update: Boolean): Pair<String, List<String>> {
    val lines = document.readLines().toMutableList()
    val problems = mutableListOf<String>()
    // From the end, so rewriting a block does not move the ones still to check.
    for (block in parseBlocks(lines.toList()).reversed()) {
        val where = "${document.relativeTo(root)}:${block.line + 1} (a ```${block.language} block)"
        when {
            block.snippet != null -> {
                val region = try {
                    region(root, block.snippet)
                } catch (e: IllegalArgumentException) {
                    problems += "$where: ${e.message}"
                    continue
                }
                if (region != block.body) {
                    if (update) {
                        repeat(block.body.size) { lines.removeAt(block.line + 1) }
                        lines.addAll(block.line + 1, region)
                    } else {
                        problems += "$where differs from its source ${block.snippet}, ${firstDifference(block.body, region)}\n" +
                            "  Edit the source (it is compiled, and run by the samples' specs), then copy the region into the " +
                            "document, or let the check do it: mvn -pl samples -am test -Dtest=ReadmeSnippetsSpec " +
                            "-Dsurefire.failIfNoSpecifiedTests=false -Dsnippets.update=true"
                    }
                }
            }
            block.notCompiled == null -> problems += "$where has no marker: $HOW_TO_MARK"
            block.language in setOf("java", "kotlin") ->
                problems += "$where is ${block.language} marked 'not compiled': move it into a compiled source and mark it as a snippet"
        }
    }
    return (lines.joinToString("\n") + "\n") to problems.reversed()
}

private fun firstDifference(shown: List<String>, source: List<String>): String {
    val i = (0 until maxOf(shown.size, source.size)).first { shown.getOrNull(it) != source.getOrNull(it) }
    return "first at its line ${i + 1}:\n    document: ${shown.getOrNull(i) ?: "(ends)"}\n    source:   ${source.getOrNull(i) ?: "(ends)"}"
}

/** A region's first and last lines: a `//`, `--` or `<!--` comment saying `region README <name>` / `endregion`. */
private val REGION_START = Regex("""^\s*(?://|--|<!--)\s*region README ([\w.-]+)""")
private val REGION_END = Regex("""^\s*(?://|--|<!--)\s*endregion\b""")

/** The lines of region `path#name`, its parts joined by a blank line, each part without its common indentation. */
fun region(root: File, reference: String): List<String> {
    val (path, name) = reference.split('#', limit = 2)
    val file = File(root, path)
    require(file.isFile) { "no file $path (paths are relative to the repository's root)" }
    val parts = mutableListOf<List<String>>()
    var current: MutableList<String>? = null
    for (line in file.readLines()) {
        val start = REGION_START.find(line)
        when {
            current == null && start?.groupValues?.get(1) == name -> current = mutableListOf()
            current != null && REGION_END.containsMatchIn(line) -> {
                parts += dedent(current)
                current = null
            }
            current != null -> current += line
        }
    }
    require(current == null) { "region README $name in $path has no endregion" }
    require(parts.isNotEmpty()) { "$path has no region README $name (mark it with `// region README $name` ... `// endregion`)" }
    return parts.flatMapIndexed { i, part -> if (i == 0) part else listOf("") + part }
}

private fun dedent(lines: List<String>): List<String> {
    val indent = lines.filter { it.isNotBlank() }.minOfOrNull { it.length - it.trimStart().length } ?: 0
    return lines.map { if (it.isBlank()) "" else it.substring(indent) }
}

private val SOURCE_TYPES = setOf("java", "kt", "kts", "sql", "xml", "conf", "properties")

/** Every `path#name` region marked in the modules' sources. */
private fun sourceRegions(root: File): Set<String> =
    root.listFiles { f -> f.isDirectory && File(f, "pom.xml").isFile }!!.flatMap { module ->
        File(module, "src").walkTopDown().filter { it.isFile && it.extension in SOURCE_TYPES }.flatMap { file ->
            file.readLines().mapNotNull { REGION_START.find(it)?.groupValues?.get(1) }
                .map { "${file.relativeTo(root).path}#$it" }
        }
    }.toSet()
