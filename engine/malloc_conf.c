/* malloc_conf.c — jemalloc's settings for every program that runs flexd's
 * clearing: the flexd binary and the bench programs, so that the bench
 * measures the allocator flexd runs on (round 16).
 *
 * Linked only where jemalloc is (CMakeLists.txt, FLEXD_JEMALLOC), as its own
 * object: a static library member that nothing references would be left out
 * of the link, and jemalloc looks the symbol up by name. */
/* Read by jemalloc at its first allocation (a setting, never written):
 * transparent huge pages for its memory where the kernel's THP mode allows
 * it (madvise or always). A 1,000-offer clearing then takes about a fifth
 * less CPU: fewer page faults and TLB misses (docs/clearing.md, "Memory").
 * MALLOC_CONF in the environment still applies on top. */
const char *malloc_conf = "thp:always";
