package io.redsync.testkit

/**
 * Run in a child JVM by [LifecycleSpec]: starts nodes, prints what the parent checks, and exits WITHOUT
 * closing them, leaving their cleanup to the testkit's shutdown hook.
 *
 * Arguments: the node count, then optionally `docker` to also print `docker=<dockerAvailable()>`.
 * Prints `pid=<pid>` and `ping=<reply>` per node.
 */
object OrphanMain {
    @JvmStatic
    fun main(args: Array<String>) {
        if ("docker" in args) println("docker=${RedisNodes.dockerAvailable()}")
        val nodes = RedisNodes.start(args[0].toInt())
        for (node in nodes.nodes()) {
            println("pid=${node.pid()}")
            println("ping=${node.call("PING")}")
        }
        System.out.flush()
        // Deliberately no nodes.close(): the JVM exits normally and the shutdown hook must reap the nodes.
    }
}
